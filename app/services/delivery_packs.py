"""A region's delivery pack for elected members: its total, by sector and by area, under the disclosure rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import AreaCountCell, CountCell, Sector
from app.services import disclosure
from app.services.regions import FILTERED_ROUNDING, RegionFigure, count_by_place, layout


class UnknownRegion(LookupError):
    """A region slug that is not one of regions.layout()'s."""


@dataclass(frozen=True)
class SectorFigure:
    slug: str
    name: str
    count: int | None  # None: fewer than 10, or hidden so that another cannot be worked out


@dataclass(frozen=True)
class DeliveryPack:
    region: RegionFigure  # the region's total and its areas, exactly as /api/v1/regions publishes them
    sectors: tuple[SectorFigure, ...]
    sector_rounding: int
    updated_at: datetime | None


def region_slugs() -> list[str]:
    """The places that have a page and a pack: the 12 regions, then "elsewhere"."""
    return [slug for slug, _, _ in layout()]


def region_figures(session: Session, slug: str, sector: str | None = None, org: str | None = None) -> RegionFigure:
    """One region's figures from count_by_place; raises UnknownRegion, or UnknownFilter for a bad filter."""
    if slug not in region_slugs():
        raise UnknownRegion(slug)
    counts = count_by_place(session, sector=sector, org=org)
    return next(region for region in counts.regions if region.slug == slug)


def delivery_pack(session: Session, slug: str) -> DeliveryPack:
    """The region's pack. Raises UnknownRegion.

    Region and area figures are the public API's. The sectors within the region are one group
    under disclosure.suppress (the region's total is published, so the group's total is known),
    then rounded to FILTERED_ROUNDING like every filtered view; all are hidden when the region is.
    """
    if slug not in region_slugs():
        raise UnknownRegion(slug)
    counts = count_by_place(session)
    region = next(r for r in counts.regions if r.slug == slug)
    sectors = session.execute(select(Sector.slug, Sector.name).order_by(Sector.position, Sector.id)).all()
    raw = dict(
        session.execute(
            select(Sector.slug, func.sum(AreaCountCell.count))
            .join(CountCell, CountCell.id == AreaCountCell.count_cell_id)
            .join(Sector, Sector.id == CountCell.sector_id)
            .where(AreaCountCell.region == slug)
            .group_by(Sector.slug)
        ).all()
    )
    shown = disclosure.suppress({s: int(raw.get(s) or 0) for s, _ in sectors})
    figures = tuple(
        SectorFigure(s, name, None if region.count is None else _round(shown.value(s))) for s, name in sectors
    )
    return DeliveryPack(region=region, sectors=figures, sector_rounding=FILTERED_ROUNDING, updated_at=counts.updated_at)


def _round(value: int | None) -> int | None:
    """To the nearest FILTERED_ROUNDING, halves up, as regions rounds filtered views."""
    return None if value is None else (value + FILTERED_ROUNDING // 2) // FILTERED_ROUNDING * FILTERED_ROUNDING
