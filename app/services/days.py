"""Whole UTC days: where each starts, and filtering by them as organisers' date filters do."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement

# The days a filter may name: wide enough for any real question, narrow enough that the day
# after the last one exists (date.max + 1 day overflows) and every database stores it.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
# Shown to organisers, in the page's language (lazy: read when the message is shown).
OUT_OF_RANGE = _l(
    "Enter a date between %(first)s and %(last)s.", first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()
)


class DayOutOfRange(ValueError):
    """A filter day outside FIRST_DAY..LAST_DAY; the message is safe to show."""


def check_day(day: date) -> date:
    """The day itself if a filter may use it; raises DayOutOfRange otherwise."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DayOutOfRange(str(OUT_OF_RANGE))
    return day


def within_days(column, first: date | None, last: date | None) -> list[ColumnElement[bool]]:
    """Conditions for column falling on or after first and on or before last (inclusive, UTC).

    A range that ends before it starts matches nothing. Raises DayOutOfRange for a day
    outside FIRST_DAY..LAST_DAY.
    """
    conditions = []
    if first:
        conditions.append(column >= start_of_day(check_day(first)))
    if last:
        conditions.append(column < start_of_day(check_day(last) + timedelta(days=1)))
    return conditions


def start_of_day(day: date) -> datetime:
    """Midnight UTC at the start of day."""
    return datetime.combine(day, time.min, tzinfo=UTC)
