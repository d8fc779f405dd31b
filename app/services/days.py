"""Filtering by whole UTC days, as organisers' date filters do."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement


def within_days(column, first: date | None, last: date | None) -> list[ColumnElement[bool]]:
    """Conditions for column falling on or after first and on or before last (inclusive, UTC)."""
    conditions = []
    if first:
        conditions.append(column >= _start_of(first))
    if last:
        conditions.append(column < _start_of(last + timedelta(days=1)))
    return conditions


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
