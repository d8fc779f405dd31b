"""Forms for paper tallies and paper-form imports; every field has a length limit and a clear message."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from app.models import PAPER_TALLY_MAX
from app.services.paper import EVENT_NAME_MAX, REASON_MAX
from app.services.paper_import import MAX_BYTES


class WholeNumberField(IntegerField):
    """An integer field whose message for "12a" or "lots" says what to type."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter how many people signed, as a whole number, like 25.") from None


class EventDateField(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError("Enter the date of the event, like 2026-11-30.") from None


def _event_name() -> StringField:
    return StringField(
        "Event",
        description="Where people signed, like “Leeds branch meeting”. No names of people, please.",
        validators=[
            DataRequired("Enter the event's name."),
            Length(max=EVENT_NAME_MAX, message=f"The event's name must be {EVENT_NAME_MAX} characters or fewer."),
        ],
        render_kw={"maxlength": EVENT_NAME_MAX},
    )


def _reason() -> StringField:
    return StringField(
        "Why",
        description="For the audit log.",
        validators=[
            DataRequired("Say why, for the audit log."),
            Length(max=REASON_MAX, message=f"The reason must be {REASON_MAX} characters or fewer."),
        ],
        render_kw={"maxlength": REASON_MAX},
    )


class TallyForm(FlaskForm):
    """A paper tally: a number of people, never who they are."""

    event_name = _event_name()
    event_date = EventDateField(
        "Date of the event",
        validators=[InputRequired("Enter the date of the event.")],
        render_kw={"class": "input-short"},
    )
    sector = SelectField("Sector", validators=[DataRequired("Choose a sector from the list.")], validate_choice=False)
    organisation = SelectField("Union", validate_choice=False)
    count = WholeNumberField(
        "How many people signed",
        validators=[InputRequired("Enter how many people signed, as a whole number, like 25.")],
        render_kw={"class": "input-short", "inputmode": "numeric", "min": 1},
    )
    max_count = PAPER_TALLY_MAX  # a union organiser's form says ORGANISER_MAX (set_choices)

    def set_choices(self, sectors, organisations, fixed_organisation=None, max_count=PAPER_TALLY_MAX) -> None:
        self.max_count = max_count
        self.count.render_kw = {**self.count.render_kw, "max": max_count}
        self.sector.choices = [SelectChoice(str(s.id), s.name) for s in sectors]
        if fixed_organisation is not None:
            self.organisation.choices = [SelectChoice(str(fixed_organisation.id), fixed_organisation.name)]
        else:
            self.organisation.choices = [SelectChoice("", "No union")] + [
                SelectChoice(str(o.id), o.name) for o in organisations
            ]

    def validate_sector(self, field) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose a sector from the list.")

    def validate_organisation(self, field) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError("Choose a union from the list.")

    def validate_count(self, field) -> None:
        if field.data is not None and not 1 <= field.data <= self.max_count:
            more = "" if self.max_count == PAPER_TALLY_MAX else " Ask an admin to record a bigger tally."
            raise ValidationError(f"Enter a number from 1 to {self.max_count:,}.{more}")


class CorrectTallyForm(TallyForm):
    reason = _reason()


class WithdrawTallyForm(FlaskForm):
    reason = _reason()


class UploadForm(FlaskForm):
    event_name = _event_name()
    file = FileField(
        "CSV file",
        description=f"Columns name, email, sector, union, postcode; at most 500 people and {MAX_BYTES // 1024} KB.",
        render_kw={"accept": ".csv,text/csv"},
    )


class StartImportForm(FlaskForm):
    """The previewed file, sent back from the page so nothing personal is kept on the server meanwhile."""

    event_name = StringField(validators=[DataRequired(), Length(max=EVENT_NAME_MAX)])
    text = TextAreaField(validators=[DataRequired(), Length(max=MAX_BYTES)])


class BatchForm(FlaskForm):
    text = TextAreaField(validators=[DataRequired(), Length(max=MAX_BYTES)])
