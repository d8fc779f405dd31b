"""Live counts, read from the per-(sector, organisation) counter cells, never from signatures; and keeping them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import AreaCountCell, CountCell, Organisation, Sector, Signature
from app.services import geography


class UnknownFilter(ValueError):
    """A sector or organisation slug that does not exist."""


def adjust_count(
    session: Session,
    sector_id: int,
    organisation_id: int | None,
    delta: int,
    now: datetime,
    *,
    postcode_outward: str | None,
) -> None:
    """Add delta to one count cell and to its cell for the signature's place, in the caller's
    transaction (creating either if missing).

    The count cell's row lock, taken first, orders every transaction that touches its places;
    the place cell is an upsert anyway, so it needs nothing else to be exact.
    """
    cell_id = session.execute(
        update(CountCell)
        .where(
            CountCell.sector_id == sector_id,
            CountCell.organisation_id.is_not_distinct_from(organisation_id),
        )
        .values(count=CountCell.count + delta, updated_at=now)
        .returning(CountCell.id)
    ).scalar_one_or_none()
    if cell_id is None:
        cell_id = session.execute(
            insert(CountCell)
            .values(sector_id=sector_id, organisation_id=organisation_id, count=max(delta, 0), updated_at=now)
            .returning(CountCell.id)
        ).scalar_one()
    _adjust_place(session, cell_id, postcode_outward, delta, now)


def uncount(session: Session, signature: Signature, now: datetime) -> None:
    """Take a confirmed signature out of its count cell and place cell (caller's transaction)."""
    adjust_count(
        session, signature.sector_id, signature.organisation_id, -1, now, postcode_outward=signature.postcode_outward
    )


def _adjust_place(
    session: Session, count_cell_id: int, postcode_outward: str | None, delta: int, now: datetime
) -> None:
    """Add delta to the count cell's cell for the outward code's area and region (an upsert)."""
    upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = upsert(AreaCountCell).values(
        count_cell_id=count_cell_id,
        area_code=geography.area_code(postcode_outward) or "",
        region=geography.region_of(postcode_outward),
        count=max(delta, 0),
        updated_at=now,
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[AreaCountCell.count_cell_id, AreaCountCell.area_code, AreaCountCell.region],
            set_={"count": AreaCountCell.count + delta, "updated_at": now},
        )
    )


@dataclass(frozen=True)
class SectorCount:
    slug: str
    name: str
    count: int
    goal: int | None


@dataclass(frozen=True)
class OrganisationCount:
    slug: str
    name: str
    count: int


@dataclass(frozen=True)
class Counts:
    total: int
    updated_at: datetime | None
    sectors: list[SectorCount]
    organisations: list[OrganisationCount]

    def as_json(self) -> dict:
        """The /api/v1/counts document (PRODUCT.md)."""
        return {
            "total": self.total,
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
    cells = session.execute(
        select(CountCell.sector_id, CountCell.organisation_id, CountCell.count, CountCell.updated_at)
    ).all()

    if sector is not None:
        sectors = [s for s in sectors if s.slug == sector]
        if not sectors:
            raise UnknownFilter(f"Unknown sector {sector!r}.")
    if org is not None:
        organisations = [o for o in organisations if o.slug == org]
        if not organisations:
            raise UnknownFilter(f"Unknown organisation {org!r}.")

    by_sector: dict[int, int] = {}
    by_org: dict[int, int] = {}
    total = 0
    sector_ids = {s.id for s in sectors} if sector is not None else None
    org_ids = {o.id for o in organisations} if org is not None else None
    for cell in cells:
        by_sector[cell.sector_id] = by_sector.get(cell.sector_id, 0) + cell.count
        if cell.organisation_id is not None:
            by_org[cell.organisation_id] = by_org.get(cell.organisation_id, 0) + cell.count
        if (sector_ids is None or cell.sector_id in sector_ids) and (
            org_ids is None or cell.organisation_id in org_ids
        ):
            total += cell.count
    updated = max((c.updated_at for c in cells), default=None)
    return Counts(
        total=total,
        updated_at=updated,
        sectors=[]
        if org is not None and sector is None
        else [SectorCount(s.slug, s.name, by_sector.get(s.id, 0), s.goal) for s in sectors],
        organisations=[]
        if sector is not None and org is None
        else [OrganisationCount(o.slug, o.name, by_org.get(o.id, 0)) for o in organisations],
    )
