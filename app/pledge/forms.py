"""Sign-up and manage forms: every field has a length limit and a message a person can act on."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.services.normalise import InvalidInput, clean_text, normalise_email, normalise_postcode
from app.services.signing import SOURCE_PATTERN

NAME_MAX = 100
EMAIL_MAX = 254
POSTCODE_MAX = 10
OTHER_UNION = "other"


def _checked(normaliser, **kwargs):
    """A validator that runs a normaliser and turns InvalidInput into the field's error."""

    def validator(form, field):
        if field.data:
            try:
                normaliser(field.data, **kwargs)
            except InvalidInput as error:
                raise ValidationError(str(error)) from None

    return validator


class SignForm(FlaskForm):
    name = StringField(
        "Full name",
        validators=[
            DataRequired("Enter your name."),
            Length(max=NAME_MAX, message=f"Your name must be {NAME_MAX} characters or fewer."),
            _checked(clean_text, max_length=NAME_MAX),
        ],
        render_kw={"autocomplete": "name", "maxlength": NAME_MAX, "spellcheck": "false"},
    )
    email = EmailField(
        "Email address",
        description="We will send you a link to confirm your signature.",
        validators=[
            DataRequired("Enter your email address."),
            Length(max=EMAIL_MAX, message=f"Your email address must be {EMAIL_MAX} characters or fewer."),
            _checked(normalise_email),
        ],
        render_kw={"autocomplete": "email", "maxlength": EMAIL_MAX, "spellcheck": "false"},
    )
    postcode = StringField(
        "Postcode (optional)",
        description="We keep only the first half, like SW1A, to count signatures by area.",
        validators=[
            Optional(),
            Length(max=POSTCODE_MAX, message="Enter a UK postcode, like SW1A 1AA."),
            _checked(normalise_postcode),
        ],
        render_kw={"autocomplete": "postal-code", "maxlength": POSTCODE_MAX, "class": "input-short"},
    )
    organisation = SelectField(
        "Your union (optional)",
        description="If you are a union member, your signature also counts for your union.",
        validate_choice=False,
    )
    consent_updates = BooleanField()
    consent_share_union = BooleanField()
    source = HiddenField(validators=[Optional(), Length(max=64)])
    # Honeypot: hidden from people by CSS; scripts that fill every field fill it too.
    website = StringField("Leave this field empty", render_kw={"autocomplete": "off", "tabindex": "-1"})

    def set_organisations(self, organisations) -> None:
        self.organisation.choices = [SelectChoice("", "Not in a union, or prefer not to say")] + [
            SelectChoice(o.slug, o.name) for o in organisations
        ]

    def validate_organisation(self, field) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose your union from the list.")

    def validate_consent_share_union(self, field) -> None:
        if field.data and not self.organisation.data:
            raise ValidationError("Choose your union, or untick sharing your details with a union.")
        if field.data and self.organisation.data == OTHER_UNION:
            raise ValidationError("We can only share your details with a union on our list. Untick this box.")

    def cleaned_source(self) -> str | None:
        """Where the signer came from; anything odd is dropped rather than shown as an error."""
        value = (self.source.data or "").strip()
        return value if SOURCE_PATTERN.match(value) else None


class ConsentsForm(FlaskForm):
    consent_updates = BooleanField()
    consent_share_union = BooleanField()


class ConfirmForm(FlaskForm):
    """Only the CSRF token: the button that confirms."""


class WithdrawForm(FlaskForm):
    """Only the CSRF token: the button that withdraws."""
