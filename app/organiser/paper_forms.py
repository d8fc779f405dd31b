"""Forms for paper tallies and paper-form imports; every field has a length limit and a clear message."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from app.content_loader import name_of
from app.forms import Form
from app.models import PAPER_TALLY_MAX
from app.services.paper import EVENT_NAME_MAX, REASON_MAX
from app.services.paper_import import MAX_BYTES, MAX_ROWS


class WholeNumberField(IntegerField):
    """An integer field whose message for "12a" or "lots" says what to type."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter how many people signed, as a whole number, like 25.")) from None


class EventDateField(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter the date of the event, like 2026-11-30.")) from None


def _event_name() -> StringField:
    return StringField(
        _l("Event"),
        description=_l("Where people signed, like “Leeds branch meeting”. No names of people, please."),
        validators=[
            DataRequired(_l("Enter the event's name.")),
            # WTForms puts the limit into %(max)d.
            Length(max=EVENT_NAME_MAX, message=_l("The event's name must be %(max)d characters or fewer.")),
        ],
        render_kw={"maxlength": EVENT_NAME_MAX},
    )


def _reason() -> StringField:
    return StringField(
        _l("Why"),
        description=_l("For the audit log."),
        validators=[
            DataRequired(_l("Say why, for the audit log.")),
            Length(max=REASON_MAX, message=_l("The reason must be %(max)d characters or fewer.")),
        ],
        render_kw={"maxlength": REASON_MAX},
    )


class TallyForm(Form):
    """A paper tally: a number of people, never who they are."""

    event_name = _event_name()
    event_date = EventDateField(
        _l("Date of the event"),
        validators=[InputRequired(_l("Enter the date of the event."))],
        render_kw={"class": "input-short"},
    )
    sector = SelectField(
        _l("Sector"), validators=[DataRequired(_l("Choose a sector from the list."))], validate_choice=False
    )
    organisation = SelectField(_l("Union"), validate_choice=False)
    count = WholeNumberField(
        _l("How many people signed"),
        validators=[InputRequired(_l("Enter how many people signed, as a whole number, like 25."))],
        render_kw={"class": "input-short", "inputmode": "numeric", "min": 1},
    )
    max_count = PAPER_TALLY_MAX  # a union organiser's form says ORGANISER_MAX (set_choices)

    def set_choices(self, sectors, organisations, fixed_organisation=None, max_count=PAPER_TALLY_MAX) -> None:
        self.max_count = max_count
        self.count.render_kw = {**self.count.render_kw, "max": max_count}
        self.sector.choices = [SelectChoice(str(s.id), name_of("sectors", s)) for s in sectors]
        if fixed_organisation is not None:
            self.organisation.choices = [
                SelectChoice(str(fixed_organisation.id), name_of("organisations", fixed_organisation))
            ]
        else:
            self.organisation.choices = [SelectChoice("", _("No union"))] + [
                SelectChoice(str(o.id), name_of("organisations", o)) for o in organisations
            ]

    def validate_sector(self, field) -> None:
        if field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_("Choose a sector from the list."))

    def validate_organisation(self, field) -> None:
        if field.data and field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_("Choose a union from the list."))

    def validate_count(self, field) -> None:
        if field.data is not None and not 1 <= field.data <= self.max_count:
            most = f"{self.max_count:,}"
            if self.max_count == PAPER_TALLY_MAX:
                raise ValidationError(_("Enter a number from 1 to %(most)s.", most=most))
            raise ValidationError(
                _("Enter a number from 1 to %(most)s. Ask an admin to record a bigger tally.", most=most)
            )


class CorrectTallyForm(TallyForm):
    reason = _reason()


class WithdrawTallyForm(Form):
    reason = _reason()


class UploadForm(Form):
    event_name = _event_name()
    file = FileField(
        _l("CSV file"),
        description=_l(
            "Columns name, email, sector, union, postcode; at most %(rows)s people and %(size)s KB.",
            rows=MAX_ROWS,
            size=MAX_BYTES // 1024,
        ),
        render_kw={"accept": ".csv,text/csv"},
    )


class StartImportForm(Form):
    """The previewed file, sent back from the page so nothing personal is kept on the server meanwhile."""

    event_name = StringField(validators=[DataRequired(), Length(max=EVENT_NAME_MAX)])
    text = TextAreaField(validators=[DataRequired(), Length(max=MAX_BYTES)])


class BatchForm(Form):
    text = TextAreaField(validators=[DataRequired(), Length(max=MAX_BYTES)])
