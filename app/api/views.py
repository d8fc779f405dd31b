"""GET /api/v1/counts and /api/v1/regions (open CORS, cacheable, conditional) and /healthz."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from flask import current_app, jsonify, make_response, request
from sqlalchemy import text

from app import cache_control
from app.api import bp
from app.errors import error_response
from app.extensions import db, limiter
from app.security import no_store
from app.services.counts import UnknownFilter, get_counts
from app.services.regions import count_by_place

log = logging.getLogger(__name__)
COUNT_FILTERS = ("sector", "org")


def _count_filters() -> dict[str, str]:
    """The ?sector= and ?org= filters; raises ValueError with a message for anything else."""
    unknown = sorted(set(request.args) - set(COUNT_FILTERS))
    if unknown:
        raise ValueError(f"Unknown parameter {unknown[0]!r}; use only sector and org.")
    filters = {}
    for name in COUNT_FILTERS:
        values = request.args.getlist(name)
        if len(values) > 1:
            raise ValueError(f"Give {name} at most once.")
        if values:
            if not values[0] or len(values[0]) > 40:
                raise ValueError(f"{name} must be a slug of 1 to 40 characters.")
            filters[name] = values[0]
    return filters


@bp.route("/api/v1/counts", methods=["GET", "OPTIONS"])
@limiter.limit(lambda: current_app.config["RATELIMIT_API"])
def counts():
    return _count_document(get_counts)


@bp.route("/api/v1/regions", methods=["GET", "OPTIONS"])
@limiter.limit(lambda: current_app.config["RATELIMIT_API"])
def regions():
    return _count_document(count_by_place)


def _count_document(read):
    """CORS preflight, or read(session, sector=, org=) as a live JSON document; 400 for bad filters."""
    if request.method == "OPTIONS":
        return _cors(make_response("", 204))
    try:
        result = read(db.session, **_count_filters())
    except (ValueError, UnknownFilter) as error:
        return _cors(error_response(400, str(error)))
    return _cors(_live_json(result.as_json(), result.updated_at))


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
