"""Figures for the organiser dashboard: exact for admins; for a union's organiser, exact only
about members who agreed to sharing, and through the disclosure rule about everyone else.

Sectors, unions and places are labelled with their names in the language being rendered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from app.content_loader import name_of
from app.models import AreaCountCell, CountCell, Organisation, Sector, Signature, SignatureStatus, utcnow
from app.services import geography
from app.services.days import start_of_day
from app.services.disclosure import suppress
from app.services.reminders import reminder_sent_before

CONFIRMED = Signature.status == SignatureStatus.CONFIRMED
AGREED = CONFIRMED & Signature.consent_share_union.is_(True)
NOT_AGREED = CONFIRMED & Signature.consent_share_union.is_(False)
VERIFIED = Signature.verified_at.is_not(None)
# A union's sign-ups: confirmed or awaiting confirmation (held and removed ones are moderators' business).
SIGNED_UP = Signature.status.in_([SignatureStatus.PENDING, SignatureStatus.CONFIRMED])
# Confirmed after a reminder had gone out: what reminders bring in (admins only; see dashboard).
CONFIRMED_AFTER_REMINDER = CONFIRMED & reminder_sent_before(Signature.confirmed_at)


@dataclass(frozen=True)
class Day:
    day: date
    signed: int
    confirmed: int
    after_reminder: int = 0  # of the confirmed, how many confirmed after a reminder

    @property
    def confirmation_rate(self) -> float | None:
        """Share of the day's sign-ups (any status) confirmed so far; None on a day without any."""
        return self.confirmed / self.signed if self.signed else None


@dataclass(frozen=True)
class Dashboard:
    """Everything, exactly: for admins."""

    by_sector: list[tuple[str, int]]
    by_union: list[tuple[str, int]]
    by_source: list[tuple[str, int]]
    days: list[Day]
    confirmed: int
    pending: int
    held: int
    confirmed_after_reminder: int = 0
    by_region: list[tuple[str, int]] = field(default_factory=list)  # every place, in the map's order
    # Per sector: confirmed signatures and those verified with a work email (from the counters).
    verified_by_sector: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def confirmation_rate(self) -> float | None:
        """Share of sign-ups awaiting or past confirmation that were confirmed."""
        total = self.confirmed + self.pending
        return self.confirmed / total if total else None

    @property
    def busiest_day(self) -> int:
        return max((d.signed for d in self.days), default=0)


@dataclass(frozen=True)
class SplitRow:
    label: str
    agreed: int
    # Members who did not agree; None when not shown on its own (none, or under the threshold:
    # counted in the split's other row). The two look the same on purpose.
    others: int | None


@dataclass(frozen=True)
class Split:
    """One breakdown for a union's organiser: members who agreed to sharing, exactly; the rest
    through the disclosure rule, with the cells it hides added together as one other row."""

    rows: list[SplitRow]
    has_other: bool
    other: int | None  # the other row's figure; None when under the threshold


@dataclass(frozen=True)
class UnionDashboard:
    """What a union's organiser sees. About members who did not agree to sharing, only the
    union's public totals (confirmed, per sector) are exact."""

    confirmed: int  # as on the union's public count
    agreed: int
    pending: int | None  # None when under the threshold
    by_sector: list[tuple[str, int, int]]  # sector, all confirmed members (public), agreed
    by_source: Split  # confirmed members
    days: Split  # sign-ups (confirmed or awaiting) per day, oldest first, labelled YYYY-MM-DD
    by_region: Split | None = None  # confirmed members, every place in the map's order
    verified_by_sector: Split | None = None  # confirmed members verified with a work email, every sector in order

    @property
    def confirmation_rate(self) -> float | None:
        """As Dashboard's; None when the awaiting figure is hidden, since it would give it away."""
        if self.pending is None:
            return None
        total = self.confirmed + self.pending
        return self.confirmed / total if total else None

    @property
    def busiest_day(self) -> int:
        """The tallest bar on the chart: only what the chart shows."""
        return max((row.agreed + (row.others or 0) for row in self.days.rows), default=0)


def _counts(
    session: Session, column, *where: ColumnElement[bool], join=None, names: str | None = None
) -> dict[str, int]:
    """Signatures matching where, counted by column (a missing value labelled "(none)"); with names
    ("sectors" or "organisations") the column is a slug, and the label its name."""
    query = select(column, func.count()).select_from(Signature)
    if join is not None:
        query = query.join(*join)
    rows = session.execute(query.where(*where).group_by(column)).all()
    none = _("(none)")
    return {(name_of(names, label) if names and label else label) or none: count for label, count in rows}


def _sector_names(session: Session) -> list[str]:
    """Every sector's name, in the sectors' order."""
    slugs = session.execute(select(Sector.slug).order_by(Sector.position, Sector.id)).scalars()
    return [name_of("sectors", slug) for slug in slugs]


def _largest_first(counts: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def _window(days: int) -> list[date]:
    first = utcnow().date() - timedelta(days=days - 1)
    return [first + timedelta(days=offset) for offset in range(days)]


def _by_day(session: Session, first: date, *where: ColumnElement[bool]) -> dict[str, int]:
    """Signatures matching where, counted by the UTC day they were made (YYYY-MM-DD), from first on."""
    day = func.date(Signature.created_at)
    rows = session.execute(
        select(day, func.count()).where(Signature.created_at >= start_of_day(first), *where).group_by(day)
    ).all()
    return {str(d): count for d, count in rows}


def _places() -> list[str]:
    """Every place's name in the map's order: the 12 regions, elsewhere, then "not given"."""
    slugs = [region.slug for region in geography.regions()] + [geography.ELSEWHERE, geography.NOT_GIVEN]
    return [geography.place_name(slug) for slug in slugs]


def _by_region(session: Session, *where: ColumnElement[bool]) -> dict[str, int]:
    """Signatures matching where, counted by the name of the region of their postcode."""
    counts: dict[str, int] = {}
    rows = session.execute(
        select(Signature.postcode_outward, func.count()).where(*where).group_by(Signature.postcode_outward)
    ).all()
    for outward, count in rows:
        name = geography.place_name(geography.region_of(outward))
        counts[name] = counts.get(name, 0) + count
    return counts


def _split(agreed: dict[str, int], others: dict[str, int], order: Iterable[str] | None = None) -> Split:
    """Rows in the given order (every label), or else largest first by what is shown (only the
    labels with something shown, so a hidden cell's label never appears)."""
    shown = suppress(others)
    if order is None:
        labels = agreed.keys() | {label for label, _ in shown.visible}
        order = sorted(labels, key=lambda label: (-(agreed.get(label, 0) + (shown.value(label) or 0)), label))
    rows = [SplitRow(label, agreed.get(label, 0), shown.value(label)) for label in order]
    return Split(rows=rows, has_other=bool(shown.hidden), other=shown.other)


def dashboard(session: Session, days: int = 30) -> Dashboard:
    """Confirmed totals by sector, union and source, sign-ups, confirmations and confirmations after
    a reminder per day, and confirmation share, all exact."""
    sector_join = (Sector, Sector.id == Signature.sector_id)
    union_join = (Organisation, Organisation.id == Signature.organisation_id)
    statuses = dict(session.execute(select(Signature.status, func.count()).group_by(Signature.status)).all())
    window = _window(days)
    day = func.date(Signature.created_at)
    per_day = {
        str(d): (signed, done, reminded)
        for d, signed, done, reminded in session.execute(
            select(
                day,
                func.count(),
                func.sum(case((CONFIRMED, 1), else_=0)),
                func.sum(case((CONFIRMED_AFTER_REMINDER, 1), else_=0)),
            )
            .where(Signature.created_at >= start_of_day(window[0]))
            .group_by(day)
        ).all()
    }
    series = []
    for d in window:
        signed, done, reminded = per_day.get(d.isoformat(), (0, 0, 0))
        series.append(Day(d, signed, int(done or 0), int(reminded or 0)))
    return Dashboard(
        by_sector=_largest_first(_counts(session, Sector.slug, CONFIRMED, join=sector_join, names="sectors")),
        by_union=_largest_first(_counts(session, Organisation.slug, CONFIRMED, join=union_join, names="organisations")),
        by_source=_largest_first(_counts(session, Signature.source, CONFIRMED)),
        days=series,
        confirmed=statuses.get(SignatureStatus.CONFIRMED, 0),
        pending=statuses.get(SignatureStatus.PENDING, 0),
        held=statuses.get(SignatureStatus.HELD, 0),
        confirmed_after_reminder=session.execute(
            select(func.count()).select_from(Signature).where(CONFIRMED_AFTER_REMINDER)
        ).scalar_one(),
        by_region=_region_counters(session),
        verified_by_sector=_verified_counters(session),
    )


def _verified_counters(session: Session) -> list[tuple[str, int, int]]:
    """(sector, confirmed, verified with a work email) for every sector, from the count cells."""
    rows = session.execute(
        select(Sector.slug, func.coalesce(func.sum(CountCell.count), 0), func.coalesce(func.sum(CountCell.verified), 0))
        .select_from(Sector)
        .outerjoin(CountCell, CountCell.sector_id == Sector.id)
        .group_by(Sector.id, Sector.slug, Sector.position)
        .order_by(Sector.position, Sector.id)
    ).all()
    return [(name_of("sectors", slug), int(count), int(verified)) for slug, count, verified in rows]


def _region_counters(session: Session) -> list[tuple[str, int]]:
    """Confirmed signatures per place, exactly, from the place counters (no scan of signatures)."""
    rows = dict(
        session.execute(
            select(AreaCountCell.region, func.sum(AreaCountCell.count)).group_by(AreaCountCell.region)
        ).all()
    )
    slugs = [region.slug for region in geography.regions()] + [geography.ELSEWHERE, geography.NOT_GIVEN]
    return [(geography.place_name(slug), int(rows.get(slug) or 0)) for slug in slugs]


def union_dashboard(session: Session, organisation_id: int, days: int = 30) -> UnionDashboard:
    """The union's figures as its organiser may see them.

    Members who agreed to sharing (confirmed, consenting: the people the organiser can export)
    are counted exactly. Everyone else credited to the union appears exactly only in the union's
    public totals (confirmed, and confirmed per sector, as /api/v1/counts?org= publishes them);
    per source, per day, per region and verified per sector they go through disclosure.suppress,
    treating the group's total as known (public total minus the consenting members the organiser can
    count), and the number awaiting confirmation is shown only from the threshold up.
    """
    member = Signature.organisation_id == organisation_id
    sector_join = (Sector, Sector.id == Signature.sector_id)
    statuses = dict(
        session.execute(select(Signature.status, func.count()).where(member).group_by(Signature.status)).all()
    )
    public_by_sector = _counts(session, Sector.slug, member, CONFIRMED, join=sector_join, names="sectors")
    agreed_by_sector = _counts(session, Sector.slug, member, AGREED, join=sector_join, names="sectors")
    window = _window(days)
    labels = [d.isoformat() for d in window]
    signed_up = _by_day(session, window[0], member, SIGNED_UP, ~AGREED)
    return UnionDashboard(
        confirmed=statuses.get(SignatureStatus.CONFIRMED, 0),
        agreed=sum(agreed_by_sector.values()),
        pending=suppress({"pending": statuses.get(SignatureStatus.PENDING, 0)}, total_known=False).value("pending"),
        by_sector=[(name, count, agreed_by_sector.get(name, 0)) for name, count in _largest_first(public_by_sector)],
        by_source=_split(
            _counts(session, Signature.source, member, AGREED),
            _counts(session, Signature.source, member, NOT_AGREED),
        ),
        days=_split(
            _by_day(session, window[0], member, AGREED),
            {label: signed_up.get(label, 0) for label in labels},
            order=labels,
        ),
        by_region=_split(
            _by_region(session, member, AGREED),
            _by_region(session, member, NOT_AGREED),
            order=_places(),
        ),
        verified_by_sector=_split(
            _counts(session, Sector.slug, member, AGREED, VERIFIED, join=sector_join, names="sectors"),
            _counts(session, Sector.slug, member, NOT_AGREED, VERIFIED, join=sector_join, names="sectors"),
            order=_sector_names(session),
        ),
    )
