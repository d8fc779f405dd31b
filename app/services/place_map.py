"""The map of support: region tiles shaded by signatures per 100,000 residents, from counts already disclosed."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flask_babel import gettext as _

from app.content_loader import load_yaml
from app.services import geography
from app.services.regions import RegionCounts

TILE = 96  # pixels per tile side in the SVG's own units
GAP = 6
# Light to dark; the text colour on each keeps at least 4.5:1 contrast (WCAG AA).
SHADES = (("#efe7f5", "#1b1b1b"), ("#c9b3dd", "#1b1b1b"), ("#7a4ca3", "#ffffff"), ("#3d1a5c", "#ffffff"))
HIDDEN_SHADE = ("#ffffff", "#1b1b1b")  # drawn hatched as well, so it never depends on colour


@dataclass(frozen=True)
class Band:
    """One step of the legend: rates from low up to (not including) high; high None is "and over"."""

    low: float
    high: float | None
    fill: str
    text: str

    @property
    def label(self) -> str:
        """The legend's words for the band, in the language being rendered."""
        if self.high is None:
            return _("%(low)s or more", low=_number(self.low))
        return _("%(low)s to under %(high)s", low=_number(self.low), high=_number(self.high))


@dataclass(frozen=True)
class Tile:
    slug: str
    name: str
    short: str
    x: int
    y: int
    population: int
    count: int | None  # as disclosed: None is "fewer than 10" (or hidden with another)
    rate: float | None  # per 100,000 residents, one decimal place
    band: Band | None  # None when the count is hidden

    @property
    def fill(self) -> str:
        return self.band.fill if self.band else HIDDEN_SHADE[0]

    @property
    def text(self) -> str:
        return self.band.text if self.band else HIDDEN_SHADE[1]


@dataclass(frozen=True)
class PlaceMap:
    tiles: tuple[Tile, ...]
    bands: tuple[Band, ...]
    width: int
    height: int
    tile_size: int = TILE


def rate_per_100k(count: int | None, population: int) -> float | None:
    """Signatures per 100,000 residents to one decimal place, or None for a hidden count."""
    return None if count is None else round(count * 100_000 / population, 1)


def _nice_step(largest: float, steps: int) -> float:
    """A round band width (1, 2, 2.5 or 5 times a power of ten) so that steps bands cover largest."""
    if largest <= 0:
        return 1.0
    raw = largest / steps
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power * steps > largest)


def _number(value: float) -> str:
    return f"{value:,.1f}".removesuffix(".0")


def _tiles() -> dict[str, dict]:
    """Where each region's tile goes and its label, in the language being rendered (content/map.yaml)."""
    return load_yaml("map")["tiles"]


def place_map(counts: RegionCounts) -> PlaceMap:
    """Tiles for the 12 regions (not "elsewhere", which is not one place) with their legend.

    Bands are equal steps of a round width from 0 up to the highest rate shown, so the legend
    reads plainly; a hidden count gets no band and no rate.
    """
    populations = {region.slug: region.population for region in geography.regions()}
    rates = {r.slug: rate_per_100k(r.count, populations[r.slug]) for r in counts.regions if r.slug in populations}
    step = _nice_step(max((rate for rate in rates.values() if rate is not None), default=0), len(SHADES))
    bands = tuple(
        Band(i * step, None if i == len(SHADES) - 1 else (i + 1) * step, fill, text)
        for i, (fill, text) in enumerate(SHADES)
    )
    layout = _tiles()
    tiles = []
    for region in counts.regions:
        if region.slug not in layout:
            continue
        place, rate = layout[region.slug], rates[region.slug]
        band = None if rate is None else bands[min(int(rate // step), len(bands) - 1)]
        tiles.append(
            Tile(
                slug=region.slug,
                name=region.name,
                short=place["short"],
                x=GAP + place["col"] * (TILE + GAP),
                y=GAP + place["row"] * (TILE + GAP),
                population=populations[region.slug],
                count=region.count,
                rate=rate,
                band=band,
            )
        )
    columns = 1 + max(place["col"] for place in layout.values())
    rows = 1 + max(place["row"] for place in layout.values())
    return PlaceMap(tuple(tiles), bands, GAP + columns * (TILE + GAP), GAP + rows * (TILE + GAP))


def page_words() -> dict:
    """The map pages' and delivery packs' words (content/map.yaml), with the population source."""
    return load_yaml("map") | {"population_source": load_yaml("postcode_areas")["population_source"]}
