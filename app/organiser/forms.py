"""Organiser forms; every field has a length limit."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from app.forms import Form
from app.services.days import FIRST_DAY, LAST_DAY, OUT_OF_RANGE


class LoginForm(Form):
    email = EmailField(_l("Email address"), validators=[DataRequired(_l("Enter your email address.")), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)])


class CodeForm(Form):
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(_l("Enter the 6-digit code.")), Length(max=10)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "class": "input-short"},
    )


class PasswordForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Enter a password.")), Length(max=200)],
        description=_l("At least 12 characters. A few unrelated words make a strong one."),
        render_kw={"autocomplete": "new-password"},
    )


class ResetRequestForm(Form):
    email = EmailField(
        _l("Email address"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Email(_l("Enter a valid email address.")),
            Length(max=254),
        ],
    )


class DayField(DateField):
    """An optional UTC day for a filter, YYYY-MM-DD, between days.FIRST_DAY and LAST_DAY."""

    def __init__(self, label: str, **kwargs) -> None:
        bounds = {"min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat()}
        super().__init__(label, validators=[Optional(), self._in_range], render_kw=bounds, **kwargs)

    def process_formdata(self, valuelist) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date like 2026-03-10.")) from None

    @staticmethod
    def _in_range(form, field) -> None:
        if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError(OUT_OF_RANGE)


def not_before(start: DayField, end: DayField) -> None:
    """For an end field's inline validator: a range that ends before it starts is a mistake."""
    if start.data and end.data and not start.errors and end.data < start.data:
        raise ValidationError(
            _("Enter a date on or after %(day)s, the start of the range.", day=start.data.isoformat())
        )


class ExportForm(Form):
    """GET form (no CSRF: it changes nothing; the download itself is audited)."""

    class Meta:
        csrf = False

    sector = SelectField(_l("Sector"), validate_choice=False)
    org = SelectField(_l("Union"), validate_choice=False)
    source = StringField(_l("Source"), validators=[Optional(), Length(max=64)])
    confirmed_from = DayField(_l("Confirmed from"))
    confirmed_to = DayField(_l("Confirmed to"))
    consent_updates = SelectField(
        _l("Consented to updates"),
        choices=[SelectChoice("", _l("Either")), SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
        validate_choice=False,
    )

    def validate_consent_updates(self, field) -> None:
        if field.data not in (None, "", "yes", "no"):
            raise ValidationError(_("Choose yes, no or either."))

    def validate_confirmed_to(self, field) -> None:
        not_before(self.confirmed_from, field)


class SearchForm(Form):
    class Meta:
        csrf = False

    email = StringField(_l("Exact email"), validators=[Optional(), Length(max=254)])
    domain = StringField(_l("Email domain"), validators=[Optional(), Length(max=253)])
    source = StringField(_l("Source"), validators=[Optional(), Length(max=64)])
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("Any")),
            SelectChoice("pending", _l("Pending")),
            SelectChoice("confirmed", _l("Confirmed")),
            SelectChoice("held", _l("Held")),
            SelectChoice("invalid", _l("Invalid")),
        ],
        validate_choice=False,  # the moderation service rejects unknown statuses
    )
    created_from = DayField(_l("Signed from"))
    created_to = DayField(_l("Signed to"))

    def validate_created_to(self, field) -> None:
        not_before(self.created_from, field)


class ReasonForm(Form):
    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Give a reason.")), Length(max=200)])


class BulkForm(ReasonForm):
    expected = IntegerField(validators=[DataRequired()])


class SelectionForm(ReasonForm):
    """The rows ticked on a page of moderation results, and why."""

    ids = SelectMultipleField(coerce=int, validate_choice=False, validators=[DataRequired(_l("Select a sign-up."))])


class BlockDomainForm(Form):
    domain = StringField(_l("Domain"), validators=[DataRequired(_l("Enter a domain.")), Length(max=253)])
    reason = StringField(_l("Reason (optional)"), validators=[Optional(), Length(max=200)])


class EmptyForm(Form):
    """Only the CSRF token: for buttons."""


class PauseForm(Form):
    paused = BooleanField(_l("Pause signing"))


class UpdateForm(Form):
    """An update to signers: subject, Markdown body and audience (ids as strings, "" for all)."""

    subject = StringField(_l("Subject"), validators=[DataRequired(_l("Enter a subject.")), Length(max=200)])
    body = TextAreaField(
        _l("Message"),
        description=_l("Markdown: *emphasis*, **bold**, [links](https://example.org), lists. HTML is shown as text."),
        validators=[DataRequired(_l("Write the message.")), Length(max=20_000)],
    )
    sector = SelectField(_l("Sector"), validate_choice=True)
    union = SelectField(_l("Union"), validate_choice=True)
