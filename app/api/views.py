"""GET /api/v1/counts and /api/v1/regions (open CORS, cacheable, conditional) and /healthz.

Names in the documents are the default language's ("name"), with each other language's beside
them ("name_cy"); slugs are never translated. Error messages are in the address's language
(/cy/api/...: Welsh); the documents are the same under every language's address.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime

from flask import current_app, jsonify, make_response, request
from flask_babel import gettext as _
from sqlalchemy import text

from app import cache_control, content_loader
from app.api import bp
from app.errors import error_response
from app.extensions import db, limiter
from app.i18n import default_language, languages
from app.security import no_store
from app.services import geography
from app.services.counts import Counts, UnknownFilter, get_counts
from app.services.regions import RegionCounts, count_by_place

log = logging.getLogger(__name__)
COUNT_FILTERS = ("sector", "org")


def _count_filters() -> dict[str, str]:
    """The ?sector= and ?org= filters; raises ValueError with a message for anything else."""
    unknown = sorted(set(request.args) - set(COUNT_FILTERS))
    if unknown:
        raise ValueError(_("Unknown parameter %(name)s; use only sector and org.", name=repr(unknown[0])))
    filters = {}
    for name in COUNT_FILTERS:
        values = request.args.getlist(name)
        if len(values) > 1:
            raise ValueError(_("Give %(name)s at most once.", name=name))
        if values:
            if not values[0] or len(values[0]) > 40:
                raise ValueError(_("%(name)s must be a slug of 1 to 40 characters.", name=name))
            filters[name] = values[0]
    return filters


def _with_names(item: dict, name_in: Callable[[dict, str], str]) -> dict:
    """item with name_<code> after its name for each language but the default (name_in(item, code)
    gives it), and the same for its postcode areas, if it has any."""
    named = {}
    for key, value in item.items():
        named[key] = value
        if key == "name":
            named.update({f"name_{code}": name_in(item, code) for code in languages() if code != default_language()})
    if "areas" in item:
        named["areas"] = [_with_names(area, _area_name) for area in item["areas"]]
    return named


def _content_name(kind: str) -> Callable[[dict, str], str]:
    return lambda item, code: content_loader.name_of(kind, item["slug"], language=code)


def _region_name(region: dict, code: str) -> str:
    return geography.place_name(region["slug"], code)


def _area_name(area: dict, code: str) -> str:
    return content_loader.name_of("areas", area["code"], language=code)


def _counts_json(counts: Counts) -> dict:
    document = counts.as_json()
    document["sectors"] = [_with_names(s, _content_name("sectors")) for s in document["sectors"]]
    document["organisations"] = [_with_names(o, _content_name("organisations")) for o in document["organisations"]]
    return document


def _regions_json(counts: RegionCounts) -> dict:
    document = counts.as_json()
    document["regions"] = [_with_names(r, _region_name) for r in document["regions"]]
    return document


@bp.route("/api/v1/counts", methods=["GET", "OPTIONS"])
@limiter.limit(lambda: current_app.config["RATELIMIT_API"])
def counts():
    return _count_document(get_counts, _counts_json)


@bp.route("/api/v1/regions", methods=["GET", "OPTIONS"])
@limiter.limit(lambda: current_app.config["RATELIMIT_API"])
def regions():
    return _count_document(count_by_place, _regions_json)


def _count_document(read, as_json):
    """CORS preflight, or read(session, sector=, org=) as a live JSON document; 400 for bad filters."""
    if request.method == "OPTIONS":
        return _cors(make_response("", 204))
    try:
        result = read(db.session, **_count_filters())
    except UnknownFilter as error:  # a ValueError too
        return _cors(error_response(400, str(error)))
    except ValueError as error:
        return _cors(error_response(400, str(error)))
    return _cors(_live_json(as_json(result), result.updated_at))


def _live_json(document: dict, updated_at: datetime | None):
    """A live count document: cacheable for a moment, with an ETag, answering If-None-Match with 304."""
    response = make_response(json.dumps(document, separators=(",", ":")))
    response.mimetype = "application/json"
    response.headers["Cache-Control"] = cache_control.live_count()
    response.add_etag()
    if updated_at:
        response.last_modified = updated_at
    return response.make_conditional(request)


def _cors(response):
    """Open to any origin: partners' pages and API tools fetch the public API from anywhere."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
    response.headers["Access-Control-Expose-Headers"] = "ETag, Last-Modified"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


@bp.get("/healthz")
@no_store
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database is "unhealthy"
        db.session.rollback()
        log.error("health check: database unavailable (%s)", type(error).__name__)
        return jsonify(status="unhealthy", database="unavailable"), 503, {"Retry-After": "30"}
    return jsonify(status="ok", database="ok")
