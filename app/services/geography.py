"""Which nation or region a postcode's outward code lies in (content/postcode_areas.yaml)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from types import MappingProxyType

from app.content_loader import load_yaml

ELSEWHERE = "elsewhere"
NOT_GIVEN = "not-given"
# An outward code ("B33", "SW1A", "CH5"): area letters, district number, optional sub-district letter.
OUTWARD = re.compile(r"^([A-Z]{1,2})([0-9])([0-9A-Z]?)$")
# A whole postcode typed where an outward code was expected ("CH5 4HS"): keep its outward part.
FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][0-9A-Z]?)[0-9][A-Z]{2}$")


@dataclass(frozen=True)
class Region:
    slug: str
    name: str
    nation: str
    itl1: str
    population: int


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    region: str
    # District ("CH5") -> region, where a district lies outside the area's majority region.
    districts: Mapping[str, str] = field(default_factory=dict, hash=False)


@cache
def regions() -> tuple[Region, ...]:
    """The 12 ITL1 regions in ONS order, with their population estimates and English names (the
    API's "name"; pages show place_name's, or the |region_name filter's, in their own language)."""
    return tuple(
        Region(r["slug"], r["name"], r["nation"], r["itl1"], int(r["population"]))
        for r in load_yaml("postcode_areas", language="en")["regions"]
    )


@cache
def areas() -> tuple[Area, ...]:
    """Every postcode area with its majority region; raises ValueError on a region or district typo."""
    known = {region.slug for region in regions()} | {ELSEWHERE}
    loaded = []
    for code, entry in load_yaml("postcode_areas", language="en")["areas"].items():
        districts = {district: region for region, listed in entry.get("districts", {}).items() for district in listed}
        for place, region in [(code, entry["region"]), *districts.items()]:
            if region not in known:
                raise ValueError(f"postcode_areas.yaml: {place} has unknown region {region!r}")
        for district in districts:
            if _split(district) != (code, district):
                raise ValueError(f"postcode_areas.yaml: {district} is not a district of {code}")
        loaded.append(Area(code, entry["name"], entry["region"], MappingProxyType(districts)))
    return tuple(loaded)


def place_name(slug: str, language: str | None = None) -> str:
    """Display name of a region slug, "elsewhere" or "not-given", in a language (default: the one
    being rendered); raises KeyError for anything else."""
    words = load_yaml("postcode_areas", language)
    return ({region["slug"]: region["name"] for region in words["regions"]} | words["other_places"])[slug]


def area_code(outward: str | None) -> str | None:
    """The postcode area of an outward code ("SW1A" -> "SW", "b33" -> "B"), or None.

    None when the value is blank, is not shaped like an outward code (or a full postcode),
    or names no postcode area we know (such as the non-geographic BX).
    """
    parsed = _parse(outward)
    return parsed[0].code if parsed else None


def region_of(outward: str | None) -> str:
    """Region slug for an outward code, "elsewhere", or "not-given".

    The district's own region if it has one ("CH5" -> "wales"), else its area's majority
    region ("CH1" -> "north-west"). GY, JE, IM and BFPO are "elsewhere". Blank, malformed
    and unknown codes (BX, or letters no postcode uses) are "not-given": they tell us no
    more about where someone lives than a postcode left out.
    """
    parsed = _parse(outward)
    if parsed is None:
        return NOT_GIVEN
    area, district = parsed
    return area.districts.get(district, area.region)


def _parse(outward: str | None) -> tuple[Area, str] | None:
    """(area, district) for an outward code or full postcode, in any case and spacing."""
    if not outward:
        return None
    compact = re.sub(r"\s+", "", outward).upper()
    full = FULL_POSTCODE.match(compact)
    split = _split(full.group(1) if full else compact)
    if split is None:
        return None
    area = _areas_by_code().get(split[0])
    return (area, split[1]) if area else None


def _split(outward: str) -> tuple[str, str] | None:
    """(area letters, district): "SW1A" -> ("SW", "SW1"), "B33" -> ("B", "B33"); None if malformed."""
    match = OUTWARD.match(outward)
    if match is None:
        return None
    letters, digit, rest = match.groups()
    return letters, letters + digit + (rest if rest.isdigit() else "")


@cache
def _areas_by_code() -> dict[str, Area]:
    return {area.code: area for area in areas()}
