"""Organiser forms; every field has a length limit."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError


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


class ExportForm(FlaskForm):
    """GET form (no CSRF: it changes nothing; the download itself is audited)."""

    class Meta:
        csrf = False

    sector = SelectField("Sector", validate_choice=False)
    org = SelectField("Union", validate_choice=False)
    source = StringField("Source", validators=[Optional(), Length(max=64)])
    confirmed_from = DateField("Confirmed from", validators=[Optional()])
    confirmed_to = DateField("Confirmed to", validators=[Optional()])
    consent_updates = SelectField(
        "Consented to updates",
        choices=[SelectChoice("", "Either"), SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        validate_choice=False,
    )

    def validate_consent_updates(self, field) -> None:
        if field.data not in (None, "", "yes", "no"):
            raise ValidationError("Choose yes, no or either.")


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
    created_from = DateField("Signed from", validators=[Optional()])
    created_to = DateField("Signed to", validators=[Optional()])


class ReasonForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired("Give a reason."), Length(max=200)])


class BulkForm(ReasonForm):
    expected = IntegerField(validators=[DataRequired()])


class BlockDomainForm(FlaskForm):
    domain = StringField("Domain", validators=[DataRequired("Enter a domain."), Length(max=253)])
    reason = StringField("Reason (optional)", validators=[Optional(), Length(max=200)])


class EmptyForm(FlaskForm):
    """Only the CSRF token: for buttons."""


class PauseForm(FlaskForm):
    paused = BooleanField("Pause signing")
