"""GET /api/v1/openapi.json: the OpenAPI 3.1 description of the public API (app/api/openapi.yaml)."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import yaml
from flask import make_response, request

from app import cache_control
from app.api import bp
from app.api.views import _cors

DOCUMENT = Path(__file__).with_name("openapi.yaml")


@cache
def _document() -> tuple[bytes, str]:
    """The document as JSON, and its ETag; read once per process (it changes only with a deploy)."""
    body = json.dumps(yaml.safe_load(DOCUMENT.read_text(encoding="utf-8")), ensure_ascii=False).encode()
    return body, hashlib.sha256(body).hexdigest()[:32]


@bp.route("/api/v1/openapi.json", methods=["GET", "OPTIONS"])
def openapi_document():
    if request.method == "OPTIONS":
        return _cors(make_response("", 204))
    body, etag = _document()
    response = make_response(body)
    response.mimetype = "application/json"
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache_control.API_DOCUMENT
    return _cors(response.make_conditional(request))
