"""Organiser forms; every field has a length limit."""

from __future__ import annotations

from flask_wtf import FlaskForm
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

from app.services.days import FIRST_DAY, LAST_DAY, OUT_OF_RANGE


class LoginForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired("Enter your email address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)])


class CodeForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app",
        validators=[DataRequired("Enter the 6-digit code."), Length(max=10)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "class": "input-short"},
    )


class PasswordForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired("Enter a password."), Length(max=200)],
        description="At least 12 characters. A few unrelated words make a strong one.",
        render_kw={"autocomplete": "new-password"},
    )


class ResetRequestForm(FlaskForm):
    email = EmailField(
        "Email address",
        validators=[DataRequired("Enter your email address."), Email("Enter a valid email address."), Length(max=254)],
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
            raise ValueError("Enter a date like 2026-03-10.") from None

    @staticmethod
    def _in_range(form, field) -> None:
        if field.data is not None and not FIRST_DAY <= field.data <= LAST_DAY:
            raise ValidationError(OUT_OF_RANGE)


def not_before(start: DayField, end: DayField) -> None:
    """For an end field's inline validator: a range that ends before it starts is a mistake."""
    if start.data and end.data and not start.errors and end.data < start.data:
        raise ValidationError(f"Enter a date on or after {start.data.isoformat()}, the start of the range.")


class ExportForm(FlaskForm):
    """GET form (no CSRF: it changes nothing; the download itself is audited)."""

    class Meta:
        csrf = False

    sector = SelectField("Sector", validate_choice=False)
    org = SelectField("Union", validate_choice=False)
    source = StringField("Source", validators=[Optional(), Length(max=64)])
    confirmed_from = DayField("Confirmed from")
    confirmed_to = DayField("Confirmed to")
    consent_updates = SelectField(
        "Consented to updates",
        choices=[SelectChoice("", "Either"), SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        validate_choice=False,
    )

    def validate_consent_updates(self, field) -> None:
        if field.data not in (None, "", "yes", "no"):
            raise ValidationError("Choose yes, no or either.")

    def validate_confirmed_to(self, field) -> None:
        not_before(self.confirmed_from, field)


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    email = StringField("Exact email", validators=[Optional(), Length(max=254)])
    domain = StringField("Email domain", validators=[Optional(), Length(max=253)])
    source = StringField("Source", validators=[Optional(), Length(max=64)])
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Any"),
            SelectChoice("pending", "Pending"),
            SelectChoice("confirmed", "Confirmed"),
            SelectChoice("held", "Held"),
            SelectChoice("invalid", "Invalid"),
        ],
        validate_choice=False,  # the moderation service rejects unknown statuses
    )
    created_from = DayField("Signed from")
    created_to = DayField("Signed to")

    def validate_created_to(self, field) -> None:
        not_before(self.created_from, field)


class ReasonForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired("Give a reason."), Length(max=200)])


class BulkForm(ReasonForm):
    expected = IntegerField(validators=[DataRequired()])


class SelectionForm(ReasonForm):
    """The rows ticked on a page of moderation results, and why."""

    ids = SelectMultipleField(coerce=int, validate_choice=False, validators=[DataRequired("Select a sign-up.")])


class BlockDomainForm(FlaskForm):
    domain = StringField("Domain", validators=[DataRequired("Enter a domain."), Length(max=253)])
    reason = StringField("Reason (optional)", validators=[Optional(), Length(max=200)])


class EmptyForm(FlaskForm):
    """Only the CSRF token: for buttons."""


class PauseForm(FlaskForm):
    paused = BooleanField("Pause signing")


class UpdateForm(FlaskForm):
    """An update to signers: subject, Markdown body and audience (ids as strings, "" for all)."""

    subject = StringField("Subject", validators=[DataRequired("Enter a subject."), Length(max=200)])
    body = TextAreaField(
        "Message",
        description="Markdown: *emphasis*, **bold**, [links](https://example.org), lists. HTML is shown as text.",
        validators=[DataRequired("Write the message."), Length(max=20_000)],
    )
    sector = SelectField("Sector", validate_choice=True)
    union = SelectField("Union", validate_choice=True)
