"""Paper tallies: people who signed a sheet at an event, recorded as a number and counted apart."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.models import PAPER_TALLY_MAX, Organisation, PaperTally, Sector, utcnow
from app.services import audit
from app.services.normalise import InvalidInput, clean_text

log = logging.getLogger(__name__)

# A union's organiser records up to this many at once; a bigger sheet needs an admin.
ORGANISER_MAX = 500
EVENT_NAME_MAX = 80
REASON_MAX = 200
EARLIEST_EVENT = date(2018, 1, 1)


class TallyRefused(ValueError):
    """A tally we cannot take as given; the message says what to change, field which answer."""

    def __init__(self, message: str | LazyString, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TallyNotFound(LookupError):
    """No such tally, or not one this organiser may see."""


@dataclass(frozen=True)
class TallyDetails:
    """What an organiser records about one paper sheet (or a pile of them): no names, no emails."""

    event_name: str
    event_date: date
    sector_id: int
    organisation_id: int | None
    count: int


@dataclass(frozen=True)
class Recorder:
    """Who records a tally, and what they may record: an admin anything, an organiser their union's."""

    actor: audit.Actor
    is_admin: bool
    organisation_id: int | None  # a union organiser's union; None for an admin

    @property
    def max_count(self) -> int:
        return PAPER_TALLY_MAX if self.is_admin else ORGANISER_MAX


def _checked(session: Session, recorder: Recorder, details: TallyDetails, today: date) -> TallyDetails:
    """The details cleaned and checked; raises TallyRefused naming the answer to change."""
    try:
        event_name = clean_text(details.event_name or "", max_length=EVENT_NAME_MAX)
    except InvalidInput as error:
        raise TallyRefused(str(error), "event_name") from None
    if not event_name:
        raise TallyRefused(_l("Enter the event's name."), "event_name")
    if not EARLIEST_EVENT <= details.event_date <= today:
        earliest = format_date(EARLIEST_EVENT, "d MMMM y")
        raise TallyRefused(
            _l("Enter a date between %(earliest)s and today for the event.", earliest=earliest), "event_date"
        )
    if session.get(Sector, details.sector_id) is None:
        raise TallyRefused(_l("Choose a sector from the list."), "sector")
    organisation_id = details.organisation_id
    if not recorder.is_admin:
        if organisation_id not in (None, recorder.organisation_id):
            raise TallyRefused(_l("You can record tallies only for your own union."), "organisation")
        organisation_id = recorder.organisation_id
    elif organisation_id is not None and session.get(Organisation, organisation_id) is None:
        raise TallyRefused(_l("Choose a union from the list."), "organisation")
    if not 1 <= details.count <= recorder.max_count:
        most = f"{recorder.max_count:,}"
        if recorder.is_admin:
            raise TallyRefused(_l("Enter a number from 1 to %(most)s.", most=most), "count")
        raise TallyRefused(
            _l("Enter a number from 1 to %(most)s. Ask an admin to record a bigger tally.", most=most), "count"
        )
    return TallyDetails(event_name, details.event_date, details.sector_id, organisation_id, details.count)


def _described(tally: PaperTally) -> dict:
    """A tally for the audit log: it holds no personal data, so all of it."""
    return {
        "event_name": tally.event_name,
        "event_date": tally.event_date.isoformat(),
        "sector_id": tally.sector_id,
        "organisation_id": tally.organisation_id,
        "count": tally.count,
    }


def _reason(reason: str | None) -> str:
    try:
        cleaned = clean_text(reason or "", max_length=REASON_MAX)
    except InvalidInput as error:
        raise TallyRefused(str(error), "reason") from None
    if not cleaned:
        raise TallyRefused(_l("Say why, for the audit log."), "reason")
    return cleaned


def record_tally(session: Session, recorder: Recorder, details: TallyDetails, today: date | None = None) -> PaperTally:
    """Record a tally and audit it, in one transaction. A union organiser's tally is always their
    union's, and at most ORGANISER_MAX. Raises TallyRefused."""
    checked = _checked(session, recorder, details, today or date.today())
    now = utcnow()
    tally = PaperTally(
        event_name=checked.event_name,
        event_date=checked.event_date,
        sector_id=checked.sector_id,
        organisation_id=checked.organisation_id,
        count=checked.count,
        recorded_by_id=recorder.actor.organiser_id,
        created_at=now,
        updated_at=now,
    )
    session.add(tally)
    session.flush()
    audit.record(session, recorder.actor, "paper.tally_recorded", tally_id=tally.id, **_described(tally))
    session.commit()
    log.info("paper tally recorded id=%s count=%s", tally.id, tally.count)
    return tally


def correct_tally(
    session: Session, recorder: Recorder, tally_id: int, details: TallyDetails, reason: str, today: date | None = None
) -> PaperTally:
    """An admin's correction of a tally that still counts, audited with before, after and why.
    Raises TallyNotFound, or TallyRefused (also for anyone but an admin)."""
    tally, why = _tally_to_change(session, recorder, tally_id, reason, "correct")
    if tally.withdrawn_at is not None:
        raise TallyRefused(_l("This tally has been withdrawn; record a new one instead."))
    checked = _checked(session, recorder, details, today or date.today())
    before = _described(tally)
    tally.event_name = checked.event_name
    tally.event_date = checked.event_date
    tally.sector_id = checked.sector_id
    tally.organisation_id = checked.organisation_id
    tally.count = checked.count
    tally.updated_at = utcnow()
    audit.record(
        session,
        recorder.actor,
        "paper.tally_corrected",
        tally_id=tally.id,
        before=before,
        after=_described(tally),
        reason=why,
    )
    session.commit()
    log.info("paper tally corrected id=%s", tally.id)
    return tally


def _tally_to_change(
    session: Session, recorder: Recorder, tally_id: int, reason: str, verb: str
) -> tuple[PaperTally, str]:
    """The tally, locked, and the cleaned reason for an admin's change; raises TallyRefused or TallyNotFound."""
    if not recorder.is_admin:
        raise TallyRefused(
            _l("Only an admin can correct a tally.") if verb == "correct" else _l("Only an admin can withdraw a tally.")
        )
    why = _reason(reason)
    tally = session.get(PaperTally, tally_id, with_for_update=True)
    if tally is None:
        raise TallyNotFound(tally_id)
    return tally, why


def withdraw_tally(session: Session, recorder: Recorder, tally_id: int, reason: str) -> PaperTally:
    """An admin takes a tally out of the counts (it stays on record), audited with why.
    Raises TallyNotFound, or TallyRefused (also for anyone but an admin, or if already withdrawn)."""
    tally, why = _tally_to_change(session, recorder, tally_id, reason, "withdraw")
    if tally.withdrawn_at is not None:
        raise TallyRefused(_l("This tally has already been withdrawn."))
    now = utcnow()
    tally.withdrawn_at = now
    tally.withdrawn_reason = why
    tally.updated_at = now
    audit.record(session, recorder.actor, "paper.tally_withdrawn", tally_id=tally.id, reason=why, **_described(tally))
    session.commit()
    log.info("paper tally withdrawn id=%s", tally.id)
    return tally


def tallies(session: Session, organisation_id: int | None = None, limit: int = 500) -> list[PaperTally]:
    """Newest event first; only one union's when organisation_id is given."""
    query = select(PaperTally).order_by(PaperTally.event_date.desc(), PaperTally.id.desc()).limit(limit)
    if organisation_id is not None:
        query = query.where(PaperTally.organisation_id == organisation_id)
    return list(session.execute(query).scalars())


def tally_for(session: Session, tally_id: int, organisation_id: int | None = None) -> PaperTally:
    """One tally an organiser may see (any, for organisation_id None); raises TallyNotFound."""
    tally = session.get(PaperTally, tally_id)
    if tally is None or (organisation_id is not None and tally.organisation_id != organisation_id):
        raise TallyNotFound(tally_id)
    return tally


@dataclass(frozen=True)
class PaperTotals:
    """Paper tallies that count, summed the ways the counts document needs them."""

    total: int = 0
    by_sector: dict[int, int] = field(default_factory=dict)
    by_organisation: dict[int, int] = field(default_factory=dict)
    updated_at: datetime | None = None  # the latest change, a withdrawal included


def paper_totals(
    session: Session, sector_ids: set[int] | None = None, organisation_ids: set[int] | None = None
) -> PaperTotals:
    """Tallies by sector and by union, and the total of those matching the filters given (None: any).

    One grouped read of a small table; withdrawn tallies count for nothing but still move
    updated_at, so a withdrawal changes the counts' Last-Modified as well as their ETag.
    """
    rows = session.execute(
        select(
            PaperTally.sector_id,
            PaperTally.organisation_id,
            func.sum(case((PaperTally.withdrawn_at.is_(None), PaperTally.count), else_=0)),
            func.max(PaperTally.updated_at),
        ).group_by(PaperTally.sector_id, PaperTally.organisation_id)
    ).all()
    total = 0
    by_sector: dict[int, int] = {}
    by_organisation: dict[int, int] = {}
    updated_at = None
    for sector_id, organisation_id, count, updated in rows:
        count = int(count or 0)
        by_sector[sector_id] = by_sector.get(sector_id, 0) + count
        if organisation_id is not None:
            by_organisation[organisation_id] = by_organisation.get(organisation_id, 0) + count
        if (sector_ids is None or sector_id in sector_ids) and (
            organisation_ids is None or organisation_id in organisation_ids
        ):
            total += count
        if updated is not None and (updated_at is None or updated > updated_at):
            updated_at = updated
    return PaperTotals(total, by_sector, by_organisation, updated_at)
