"""/map, /map/<region> and /delivery/<region>: counts by place, only ever through the disclosure rule."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, render_template, request
from flask_babel import format_date
from flask_babel import gettext as _

from app import content_loader
from app.errors import error_response
from app.extensions import db
from app.i18n import current_language
from app.models import utcnow
from app.places import bp
from app.services import disclosure, geography
from app.services.counts import UnknownFilter
from app.services.delivery_packs import UnknownRegion, delivery_pack, region_figures
from app.services.embed import SLUG_PATTERN
from app.services.place_map import page_words, place_map, rate_per_100k
from app.services.regions import FILTERED_ROUNDING, count_by_place
from app.widget.text import in_place

MAP_FILTERS = ("sector", "org")
UK = ZoneInfo("Europe/London")


class BadFilter(ValueError):
    """A query parameter the map does not take, or a malformed or unknown slug (a 400)."""


def _filters() -> dict[str, str]:
    """?sector= and ?org= (an empty value means all, as the form's first option sends it)."""
    unknown = sorted(set(request.args) - set(MAP_FILTERS))
    if unknown:
        raise BadFilter(_("Unknown parameter %(name)s; the map takes only sector and org.", name=repr(unknown[0])))
    filters = {}
    for name in MAP_FILTERS:
        values = request.args.getlist(name)
        if len(values) > 1:
            raise BadFilter(_("Give %(name)s at most once.", name=name))
        if values and values[0]:
            if not SLUG_PATTERN.match(values[0]):
                raise BadFilter(_("%(name)s must be a slug like 'education' or 'neu'.", name=name))
            filters[name] = values[0]
    return filters


def _words() -> dict:
    words = page_words()
    threshold, rounding = str(disclosure.THRESHOLD), str(FILTERED_ROUNDING)
    return words | {
        "rule": words["rule"].replace("{threshold}", threshold).replace("{rounding}", rounding),
        "rate_note": words["rate_note"].replace("{population_source}", words["population_source"]),
    }


def _taken(now: datetime) -> str:
    """When the figures were taken, in UK time: "14:05 on 5 March 2025 (UK time)"."""
    local = now.astimezone(UK)
    return _("%(time)s on %(date)s (UK time)", time=f"{local:%H:%M}", date=format_date(local.date(), "d MMMM y"))


def _in_place(slug: str) -> str:
    return in_place(slug, current_language())


@bp.context_processor
def _place_names() -> dict:
    """Places by name in the page's language: place_name("wales") "Cymru", in_place("wales") "yng
    Nghymru" (an area's name: the |area_name filter, app/i18n.py)."""
    return {"place_name": geography.place_name, "in_place": _in_place}


def _filter_choices(filters: dict[str, str]) -> dict:
    return {
        "filters": filters,
        "sectors": content_loader.sectors(),
        "organisations": content_loader.organisations(),
    }


@bp.get("/map")
def map_page():
    """The UK's regions as a tile map shaded per 100,000 residents, and the same figures as a table."""
    try:
        filters = _filters()
        counts = count_by_place(db.session, **filters)
    except BadFilter as error:
        return error_response(400, str(error), _("We could not show that map"))
    except UnknownFilter as error:
        return error_response(400, str(error), _("We could not show that map"))
    return render_template(
        "places/map.html",
        counts=counts,
        place_map=place_map(counts),
        words=_words(),
        rate=rate_per_100k,
        populations=_populations(),
        threshold=disclosure.THRESHOLD,
        **_filter_choices(filters),
    )


def _populations() -> dict[str, int]:
    return {region.slug: region.population for region in geography.regions()}


@bp.get("/map/<region_slug>")
def region_page(region_slug: str):
    """One region: its postcode areas with their counts, a sign button and its delivery pack."""
    try:
        filters = _filters()
        region = region_figures(db.session, region_slug, **filters)
    except UnknownRegion:
        abort(404)
    except BadFilter as error:
        return error_response(400, str(error), _("We could not show that region"))
    except UnknownFilter as error:
        return error_response(400, str(error), _("We could not show that region"))
    return render_template(
        "places/region.html",
        region=region,
        words=_words(),
        threshold=disclosure.THRESHOLD,
        rounded_to=FILTERED_ROUNDING if filters else 1,
        **_filter_choices(filters),
    )


@bp.get("/delivery/<region_slug>")
def delivery(region_slug: str):
    """A region's pack to print or save as PDF for elected members: the pledge and counts, no names."""
    if request.args:
        return error_response(400, _("A delivery pack takes no query parameters."), _("We could not make that pack"))
    try:
        pack = delivery_pack(db.session, region_slug)
    except UnknownRegion:
        abort(404)
    return render_template(
        "places/delivery.html",
        pack=pack,
        pledge=content_loader.pledge(),
        words=_words(),
        threshold=disclosure.THRESHOLD,
        taken=_taken(utcnow()),
    )
