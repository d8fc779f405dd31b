"""Whole UTC days: where each starts, and filtering by them as organisers' date filters do."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement


def within_days(column, first: date | None, last: date | None) -> list[ColumnElement[bool]]:
    """Conditions for column falling on or after first and on or before last (inclusive, UTC)."""
    conditions = []
    if first:
        conditions.append(column >= start_of_day(first))
    if last:
        conditions.append(column < start_of_day(last + timedelta(days=1)))
    return conditions


def start_of_day(day: date) -> datetime:
    """Midnight UTC at the start of day."""
    return datetime.combine(day, time.min, tzinfo=UTC)
