"""Sign-up, confirmation and manage forms: every field has a length limit and a message a person can act on."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import HiddenInput

from app import content_loader
from app.forms import Form
from app.i18n import current_language
from app.services.confirmation import Confirmation
from app.services.normalise import NAME_MAX, InvalidInput, clean_name, normalise_email, normalise_postcode
from app.services.signing import SOURCE_PATTERN

EMAIL_MAX = 254
POSTCODE_MAX = 10


def _checked(normaliser, **kwargs):
    """A validator that runs a normaliser and turns InvalidInput into the field's error."""

    def validator(form, field):
        if field.data:
            try:
                normaliser(field.data, **kwargs)
            except InvalidInput as error:
                raise ValidationError(str(error)) from None

    return validator


def _name_field() -> StringField:
    """The name as the sign-up form and the confirmation page both ask for it: one rule (clean_name)."""
    return StringField(
        _l("Full name"),
        validators=[
            DataRequired(_l("Enter your name.")),
            # WTForms puts the limit into %(max)d.
            Length(max=NAME_MAX, message=_l("Your name must be %(max)d characters or fewer.")),
            _checked(clean_name),
        ],
        render_kw={"autocomplete": "name", "maxlength": NAME_MAX, "spellcheck": "false"},
    )


class SignForm(Form):
    """The sign-up form. It asks for no consents: a box ticked here may have been ticked by someone
    else, so only the confirmation page, reached from the mailbox, asks."""

    name = _name_field()
    email = EmailField(
        _l("Email address"),
        description=_l("We will send you a link to confirm your signature."),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=EMAIL_MAX, message=_l("Your email address must be %(max)d characters or fewer.")),
            _checked(normalise_email),
        ],
        render_kw={"autocomplete": "email", "maxlength": EMAIL_MAX, "spellcheck": "false"},
    )
    postcode = StringField(
        _l("Postcode (optional)"),
        description=_l("We keep only the first half, like SW1A, to count signatures by area."),
        validators=[
            Optional(),
            Length(max=POSTCODE_MAX, message=_l("Enter a UK postcode, like SW1A 1AA.")),
            _checked(normalise_postcode),
        ],
        render_kw={"autocomplete": "postal-code", "maxlength": POSTCODE_MAX, "class": "input-short"},
    )
    organisation = SelectField(
        _l("Your union (optional)"),
        description=_l("If you are a union member, your signature also counts for your union."),
        validate_choice=False,
    )
    source = HiddenField(validators=[Optional(), Length(max=64)])
    # Honeypot: hidden from people by CSS; scripts that fill every field fill it too.
    website = StringField(_l("Leave this field empty"), render_kw={"autocomplete": "off", "tabindex": "-1"})

    def set_organisations(self, organisations) -> None:
        language = current_language()
        self.organisation.choices = [SelectChoice("", _("Not in a union, or prefer not to say"))] + [
            SelectChoice(o.slug, content_loader.name_of("organisations", o, language)) for o in organisations
        ]

    def validate_organisation(self, field) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_("Choose your union from the list."))

    def cleaned_source(self) -> str | None:
        """Where the signer came from; anything odd is dropped rather than shown as an error."""
        value = (self.source.data or "").strip()
        return value if SOURCE_PATTERN.match(value) else None


class ConsentsForm(Form):
    consent_updates = BooleanField()
    consent_share_union = BooleanField()


class ConfirmForm(Form):
    """The confirmation page: the name (which may be corrected), the two choices, unticked, and
    the details the page showed, so a sign-up replaced meanwhile is not confirmed unseen."""

    name = _name_field()
    consent_updates = BooleanField()
    consent_share_union = BooleanField()
    shown_sector = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    shown_union = IntegerField(widget=HiddenInput(), validators=[Optional()])
    shown_postcode = HiddenField(validators=[Optional(), Length(max=4)])

    @classmethod
    def offering(cls, offered: Confirmation) -> ConfirmForm:
        """The form as the page first shows it: never ticked, whatever the sign-up form was sent."""
        return cls(
            formdata=None,
            data={
                "name": offered.name,
                "shown_sector": offered.sector_id,
                "shown_union": offered.organisation_id,
                "shown_postcode": offered.postcode_outward or "",
            },
        )

    def confirmation(self, wording_version: str) -> Confirmation:
        return Confirmation(
            name=self.name.data,
            sector_id=self.shown_sector.data,
            organisation_id=self.shown_union.data,
            postcode_outward=self.shown_postcode.data or None,
            wording_version=wording_version,
            consent_updates=self.consent_updates.data,
            consent_share_union=self.consent_share_union.data,
            language=current_language(),
        )


class WithdrawForm(Form):
    """Only the CSRF token: the button that withdraws."""


class WorkEmailForm(Form):
    """The work address to verify a signature with (issue 12): sent one link, then erased."""

    work_email = EmailField(
        _l("Work email address"),
        description=_l("We send one link to it, then erase it. We never keep the address or its domain."),
        validators=[
            DataRequired(_l("Enter your work email address.")),
            Length(max=EMAIL_MAX, message=_l("Your work email address must be %(max)d characters or fewer.")),
            _checked(normalise_email),
        ],
        render_kw={"autocomplete": "work email", "maxlength": EMAIL_MAX, "spellcheck": "false"},
    )


class VerifyWorkForm(Form):
    """Only the CSRF token: the button that verifies."""
