"""Live counts, read from the per-(sector, organisation) counter cells, never from signatures; and keeping them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from app.models import CountCell, Organisation, Sector, Signature, Tz
from app.services import geography
from app.services.milestones import sector_goal
from app.services.paper import paper_totals


class UnknownFilter(ValueError):
    """A sector or organisation slug that does not exist; its message is in the language being rendered."""

    @classmethod
    def of(cls, label: str, slug: str) -> UnknownFilter:
        if label == "sector":
            return cls(gettext("Unknown sector %(slug)s.", slug=repr(slug)))
        return cls(gettext("Unknown organisation %(slug)s.", slug=repr(slug)))


def id_for_slug(session: Session, model: type[Sector] | type[Organisation], slug: str, label: str) -> int:
    """The id of the sector or organisation with this slug; raises UnknownFilter.

    Matched in Python among the few rows there are, so a value the database would refuse (a NUL
    byte) is just unknown, never a database error.
    """
    found = next((id_ for id_, known in session.execute(select(model.id, model.slug)) if known == slug), None)
    if found is None:
        raise UnknownFilter.of(label, slug)
    return found


# Each (sector, organisation) count is spread over this many count_cell rows. A signature is
# counted in one of them (shard_for), recorded as its count_shard so it is taken out of the same
# one; readers sum them. With one row, a surge of confirmations in one sector queued on its lock:
# spread, PostgreSQL spent less CPU per confirmation (bench/README.md, "Confirmation load").
COUNT_SHARDS = 8


def shard_for(signature_id: int) -> int:
    """The count shard a signature is counted in when it is confirmed."""
    return signature_id % COUNT_SHARDS


def adjust_count(
    session: Session,
    sector_id: int,
    organisation_id: int | None,
    delta: int,
    now: datetime,
    *,
    postcode_outward: str | None,
    shard: int,
) -> None:
    """Add delta to one count cell (the pair's shard) and to its cell for the signature's place,
    in the caller's transaction (creating either if missing).

    The count cell's row lock, taken first, orders every transaction that touches its places;
    the place cell is an upsert anyway, so it needs nothing else to be exact. The statements
    are built once, with parameters (see _BUMP_CELL).
    """
    connection = session.connection()
    cell = {"b_sector": sector_id, "b_org": organisation_id, "b_shard": shard, "b_delta": delta, "b_now": now}
    cell_id = connection.execute(_BUMP_CELL, cell).scalar_one_or_none()
    if cell_id is None:
        cell_id = session.execute(
            insert(CountCell)
            .values(
                sector_id=sector_id, organisation_id=organisation_id, shard=shard, count=max(delta, 0), updated_at=now
            )
            .returning(CountCell.id)
        ).scalar_one()
    area_code, region = place_of(postcode_outward)
    place = {
        "count_cell_id": cell_id,
        "area_code": area_code,
        "region": region,
        "count": max(delta, 0),
        "updated_at": now,
        "b_delta": delta,
    }
    connection.execute(_BUMP_PLACE, place)


def place_of(postcode_outward: str | None) -> tuple[str, str]:
    """The (area_code, region) of a signature's place cell: ("", "not-given") without a postcode area."""
    return geography.area_code(postcode_outward) or "", geography.region_of(postcode_outward)


# Built once with bound parameters: a statement's cache key is then memoised, where building
# it with values on every confirmation cost a fifth of the confirm POST (bench/README.md).
_cells = CountCell.__table__
_BUMP_CELL = (
    _cells.update()
    .where(
        _cells.c.sector_id == bindparam("b_sector"),
        _cells.c.organisation_id.is_not_distinct_from(bindparam("b_org")),
        _cells.c.shard == bindparam("b_shard"),
    )
    .values(count=_cells.c.count + bindparam("b_delta"), updated_at=bindparam("b_now"))
    .returning(_cells.c.id)
)


# Written out, because SQLAlchemy compiles its ON CONFLICT construct afresh on every execution
# (a sixth of a confirmation's CPU); PostgreSQL and SQLite (3.24+) both take this form.
_BUMP_PLACE = text(
    "INSERT INTO area_count_cell (count_cell_id, area_code, region, count, updated_at)"
    " VALUES (:count_cell_id, :area_code, :region, :count, :updated_at)"
    " ON CONFLICT (count_cell_id, area_code, region)"
    " DO UPDATE SET count = area_count_cell.count + :b_delta, updated_at = excluded.updated_at"
).bindparams(bindparam("updated_at", type_=Tz()))


# One row per (sector, organisation): its shards summed by the database, not in Python.
_PAIRS = select(
    CountCell.sector_id,
    CountCell.organisation_id,
    func.sum(CountCell.count).label("count"),
    func.sum(CountCell.verified).label("verified"),
    func.max(CountCell.updated_at).label("updated_at"),
).group_by(CountCell.sector_id, CountCell.organisation_id)


def adjust_verified(session: Session, signature: Signature, delta: int, now: datetime) -> None:
    """Add delta to the verified count of a confirmed signature's cell (which exists), in the caller's transaction."""
    cells = CountCell.__table__
    session.execute(
        cells.update()
        .where(
            cells.c.sector_id == signature.sector_id,
            cells.c.organisation_id.is_not_distinct_from(signature.organisation_id),
            cells.c.shard == signature.count_shard,
        )
        .values(verified=cells.c.verified + delta, updated_at=now)
    )


def uncount(session: Session, signature: Signature, now: datetime) -> None:
    """Take a confirmed signature out of its count cell and place cell (caller's transaction)."""
    if signature.verified_at is not None:  # first: a cell's verified never exceeds its count
        adjust_verified(session, signature, -1, now)
    adjust_count(
        session,
        signature.sector_id,
        signature.organisation_id,
        -1,
        now,
        postcode_outward=signature.postcode_outward,
        shard=signature.count_shard,
    )


@dataclass(frozen=True)
class SectorCount:
    slug: str
    name: str
    count: int
    goal: int | None
    paper: int = 0  # paper tallies (app/services/paper.py): never part of count
    next_goal: int | None = None  # the step after goal on the sector's ladder (milestones)
    verified: int = 0  # of count, those verified with a work address (services/work_verification.py)


@dataclass(frozen=True)
class OrganisationCount:
    slug: str
    name: str
    count: int
    paper: int = 0
    verified: int = 0  # of count, those verified with a work address (in whichever sector they signed for)


@dataclass(frozen=True)
class Counts:
    total: int
    updated_at: datetime | None
    sectors: list[SectorCount]
    organisations: list[OrganisationCount]
    paper: int = 0  # paper tallies matching the filters; total stays confirmed online signatures
    verified_total: int = 0  # of total, those verified with a work address

    def as_json(self) -> dict:
        """The /api/v1/counts document (PRODUCT.md)."""
        return {
            "total": self.total,
            "paper": self.paper,
            "verified_total": self.verified_total,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "sectors": [s.__dict__ for s in self.sectors],
            "organisations": [o.__dict__ for o in self.organisations],
        }

    def sector(self, slug: str) -> SectorCount | None:
        return next((s for s in self.sectors if s.slug == slug), None)

    def organisation(self, slug: str) -> OrganisationCount | None:
        return next((o for o in self.organisations if o.slug == slug), None)


def get_counts(session: Session, sector: str | None = None, org: str | None = None) -> Counts:
    """Confirmed signatures by sector and organisation, optionally narrowed to one of each.

    With a sector, only that sector is listed; with an organisation, only that one; the
    total is the number of signatures matching every filter given. Raises UnknownFilter.
    """
    sectors = session.execute(select(Sector).order_by(Sector.position, Sector.id)).scalars().all()
    organisations = (
        session.execute(select(Organisation).order_by(Organisation.position, Organisation.id)).scalars().all()
    )
    cells = session.execute(_PAIRS).all()

    if sector is not None:
        sectors = [s for s in sectors if s.slug == sector]
        if not sectors:
            raise UnknownFilter.of("sector", sector)
    if org is not None:
        organisations = [o for o in organisations if o.slug == org]
        if not organisations:
            raise UnknownFilter.of("organisation", org)

    by_sector: dict[int, int] = {}
    by_org: dict[int, int] = {}
    verified_by_sector: dict[int, int] = {}
    verified_by_org: dict[int, int] = {}
    total = verified_total = 0
    sector_ids = {s.id for s in sectors} if sector is not None else None
    org_ids = {o.id for o in organisations} if org is not None else None
    for cell in cells:
        by_sector[cell.sector_id] = by_sector.get(cell.sector_id, 0) + cell.count
        verified_by_sector[cell.sector_id] = verified_by_sector.get(cell.sector_id, 0) + cell.verified
        if cell.organisation_id is not None:
            by_org[cell.organisation_id] = by_org.get(cell.organisation_id, 0) + cell.count
            verified_by_org[cell.organisation_id] = verified_by_org.get(cell.organisation_id, 0) + cell.verified
        if (sector_ids is None or cell.sector_id in sector_ids) and (
            org_ids is None or cell.organisation_id in org_ids
        ):
            total += cell.count
            verified_total += cell.verified
    paper = paper_totals(session, sector_ids, org_ids)
    updated = max((c.updated_at for c in cells), default=None)
    if paper.updated_at is not None and (updated is None or paper.updated_at > updated):
        updated = paper.updated_at  # so a tally's change is a change of Last-Modified too
    return Counts(
        total=total,
        paper=paper.total,
        verified_total=verified_total,
        updated_at=updated,
        sectors=[]
        if org is not None and sector is None
        else [
            _sector_count(s, by_sector.get(s.id, 0), paper.by_sector.get(s.id, 0), verified_by_sector.get(s.id, 0))
            for s in sectors
        ],
        organisations=[]
        if sector is not None and org is None
        else [
            OrganisationCount(
                o.slug, o.name, by_org.get(o.id, 0), paper.by_organisation.get(o.id, 0), verified_by_org.get(o.id, 0)
            )
            for o in organisations
        ],
    )


def _sector_count(sector: Sector, count: int, paper: int, verified: int = 0) -> SectorCount:
    """A sector's count with its goal: the current step of its ladder (app/services/milestones.py)."""
    goal = sector_goal(sector.slug, count, sector.goal)
    return SectorCount(sector.slug, sector.name, count, goal.goal, paper, goal.next_goal, verified)
