"""Confirmed signatures by region and postcode area, read from the place counters, under the disclosure rule."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.content_loader import name_of
from app.models import AreaCountCell, CountCell, Organisation, Sector
from app.services import disclosure, geography
from app.services.counts import id_for_slug

# Filtered views are rounded to this after suppression, so that one taken from another (or from
# the unfiltered view) leaves no small exact difference.
FILTERED_ROUNDING = 5


@dataclass(frozen=True)
class AreaFigure:
    code: str
    name: str
    count: int | None


@dataclass(frozen=True)
class RegionFigure:
    slug: str
    name: str
    count: int | None
    areas: tuple[AreaFigure, ...]


@dataclass(frozen=True)
class RegionCounts:
    updated_at: datetime | None
    rounded_to: int
    not_given: int | None
    regions: tuple[RegionFigure, ...]

    def as_json(self) -> dict:
        """The /api/v1/regions document (README, app/api/openapi.yaml)."""
        return {
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "suppressed_below": disclosure.THRESHOLD,
            "rounded_to": self.rounded_to,
            "not_given": self.not_given,
            "regions": [
                {"slug": r.slug, "name": r.name, "count": r.count, "areas": [a.__dict__ for a in r.areas]}
                for r in self.regions
            ],
        }


@cache
def layout() -> tuple[tuple[str, str, tuple[geography.Area, ...]], ...]:
    """(slug, name, areas) for the 12 regions in ONS order, then "elsewhere".

    A region lists every area with any part in it, empty or not (listing only the non-empty
    ones would tell them apart from the empty ones): an area that crosses a border by district
    (CH, SY...) is listed in each region it reaches, with the count of its part there.
    """
    slugs = [(region.slug, region.name) for region in geography.regions()]
    slugs.append((geography.ELSEWHERE, geography.place_name(geography.ELSEWHERE, language="en")))
    return tuple(
        (
            slug,
            name,
            tuple(
                area
                for area in sorted(geography.areas(), key=lambda a: a.code)
                if slug == area.region or slug in area.districts.values()
            ),
        )
        for slug, name in slugs
    )


def count_by_place(session: Session, sector: str | None = None, org: str | None = None) -> RegionCounts:
    """Confirmed signatures by region and area, as the public may see them; reads no signature.

    Regions, "elsewhere" and "not given" make one group (its total is public through the counts
    API); the areas of each shown region make another. Each group goes through
    disclosure.suppress; a hidden region hides all its areas, which would otherwise add up to
    it. With a sector or organisation the shown figures are then rounded to the nearest
    FILTERED_ROUNDING. Raises UnknownFilter for a slug that does not exist.
    """
    query = select(
        AreaCountCell.region, AreaCountCell.area_code, func.sum(AreaCountCell.count), func.max(AreaCountCell.updated_at)
    ).join(CountCell, CountCell.id == AreaCountCell.count_cell_id)
    if sector is not None:
        query = query.where(CountCell.sector_id == id_for_slug(session, Sector, sector, "sector"))
    if org is not None:
        query = query.where(CountCell.organisation_id == id_for_slug(session, Organisation, org, "organisation"))
    rows = session.execute(query.group_by(AreaCountCell.region, AreaCountCell.area_code)).all()
    by_area = {(region, code): int(total) for region, code, total, _ in rows}
    by_region: Counter[str] = Counter()
    for (region, _), total in by_area.items():
        by_region[region] += total
    updated_at = max((when for *_, when in rows if when is not None), default=None)

    rounded_to = FILTERED_ROUNDING if sector is not None or org is not None else 1
    top = disclosure.suppress(
        {slug: by_region[slug] for slug, _, _ in layout()} | {geography.NOT_GIVEN: by_region[geography.NOT_GIVEN]}
    )
    regions = []
    for slug, name, areas in layout():
        count = top.value(slug)
        shown = disclosure.suppress({area.code: by_area.get((slug, area.code), 0) for area in areas})
        figures = tuple(
            AreaFigure(a.code, a.name, None if count is None else _round(shown.value(a.code), rounded_to))
            for a in areas
        )
        regions.append(RegionFigure(slug, name, _round(count, rounded_to), figures))
    return RegionCounts(
        updated_at=updated_at,
        rounded_to=rounded_to,
        not_given=_round(top.value(geography.NOT_GIVEN), rounded_to),
        regions=tuple(regions),
    )


def _round(value: int | None, to: int) -> int | None:
    """To the nearest multiple of to, halves up (none below THRESHOLD reach here)."""
    return None if value is None else (value + to // 2) // to * to


class UnknownPlace(ValueError):
    """A region slug, or an area code in it, that the layout does not have."""


@dataclass(frozen=True)
class PlaceFigure:
    """A published figure for a signer's place: their postcode area's, or else their region's."""

    count: int
    region: str
    area: str | None = None  # the postcode area's code when the figure is the area's
    crosses: bool = False  # the area crosses a border: the figure is for its part in the region

    @property
    def name(self) -> str:
        """ "Cardiff", "the Wales part of Chester" or "Wales", in the language being rendered."""
        region = name_of("regions", self.region)
        if self.area is None:
            return region
        area = name_of("areas", self.area)
        return gettext("the %(region)s part of %(area)s", region=region, area=area) if self.crosses else area


def signers_near(session: Session, region: str, area_code: str) -> PlaceFigure | None:
    """How many have signed in the area (its part in region), as count_by_place publishes it, or
    else in the whole region; None when both are hidden by the disclosure rule. Raises UnknownPlace."""
    found = next((areas for slug, _, areas in layout() if slug == region), None)
    if found is None:
        raise UnknownPlace(gettext("Unknown region '%(region)s'.", region=region))
    area = next((a for a in found if a.code == area_code), None)
    if area is None:
        raise UnknownPlace(
            gettext(
                "There is no postcode area '%(area)s' in %(region)s.", area=area_code, region=name_of("regions", region)
            )
        )
    figures = next(r for r in count_by_place(session).regions if r.slug == region)
    shown = next(a.count for a in figures.areas if a.code == area_code)
    if shown is not None:
        crosses = area.region != region or any(r != region for r in area.districts.values())
        return PlaceFigure(shown, region, area.code, crosses)
    return PlaceFigure(figures.count, region) if figures.count is not None else None
