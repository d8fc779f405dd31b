"""Figures for the organiser dashboard, scoped to one union for its organisers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import Organisation, Sector, Signature, SignatureStatus, utcnow
from app.services.days import start_of_day


@dataclass(frozen=True)
class Day:
    day: date
    signed: int
    confirmed: int


@dataclass(frozen=True)
class Dashboard:
    by_sector: list[tuple[str, int]]
    by_union: list[tuple[str, int]]
    by_source: list[tuple[str, int]]
    days: list[Day]
    confirmed: int
    pending: int
    held: int

    @property
    def confirmation_rate(self) -> float | None:
        """Share of sign-ups awaiting or past confirmation that were confirmed."""
        total = self.confirmed + self.pending
        return self.confirmed / total if total else None

    @property
    def busiest_day(self) -> int:
        return max((d.signed for d in self.days), default=0)


def dashboard(session: Session, organisation_id: int | None = None, days: int = 30) -> Dashboard:
    """Confirmed totals by sector, union and source, sign-ups per day, and confirmation share.

    organisation_id narrows everything to signatures credited to that union.
    """
    scope = [] if organisation_id is None else [Signature.organisation_id == organisation_id]
    confirmed = [Signature.status == SignatureStatus.CONFIRMED, *scope]

    def grouped(column, *joins):
        query = select(column, func.count()).select_from(Signature)
        for target, on in joins:
            query = query.join(target, on)
        rows = session.execute(query.where(*confirmed).group_by(column).order_by(func.count().desc())).all()
        return [(label or "(none)", count) for label, count in rows]

    statuses = dict(
        session.execute(select(Signature.status, func.count()).where(*scope).group_by(Signature.status)).all()
    )
    start = start_of_day(utcnow().date() - timedelta(days=days - 1))
    day = func.date(Signature.created_at)
    per_day = {
        str(d): (signed, done)
        for d, signed, done in session.execute(
            select(day, func.count(), func.sum(case((Signature.status == SignatureStatus.CONFIRMED, 1), else_=0)))
            .where(Signature.created_at >= start, *scope)
            .group_by(day)
        ).all()
    }
    series = []
    for offset in range(days):
        d = start.date() + timedelta(days=offset)
        signed, done = per_day.get(d.isoformat(), (0, 0))
        series.append(Day(d, signed, int(done or 0)))
    return Dashboard(
        by_sector=grouped(Sector.name, (Sector, Sector.id == Signature.sector_id)),
        by_union=grouped(Organisation.name, (Organisation, Organisation.id == Signature.organisation_id)),
        by_source=grouped(Signature.source),
        days=series,
        confirmed=statuses.get(SignatureStatus.CONFIRMED, 0),
        pending=statuses.get(SignatureStatus.PENDING, 0),
        held=statuses.get(SignatureStatus.HELD, 0),
    )
