"""Headers for the widget routes: cacheable by any CDN, framable from anywhere, no cookies, errors as text."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from flask import Response, current_app, jsonify, make_response

# The iframe page: only our own script, stylesheet and counts API, and any site may frame it.
FRAME_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'{style}; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors *"
)
# The badge is an image: nothing in it may load or run, and it may be shown in <object> or <iframe> too.
BADGE_CSP = "default-src 'none'; frame-ancestors *"


def cacheable(response: Response, cache_control: str, last_modified: datetime | None = None) -> Response:
    """Add Cache-Control, an ETag of the body and Last-Modified (make_conditional then answers 304)."""
    response.headers["Cache-Control"] = cache_control
    response.add_etag()
    if last_modified:
        response.last_modified = last_modified
    # Any site may load these; a cross-origin-isolated host (COEP) needs to be told so.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


def frame_csp(inline_style: str | None) -> str:
    """The iframe page's policy, allowing exactly one inline <style> (the accent colour) by its hash."""
    if not inline_style:
        return FRAME_CSP.format(style="")
    digest = base64.b64encode(hashlib.sha256(inline_style.encode()).digest()).decode()
    return FRAME_CSP.format(style=f" 'sha256-{digest}'")


def render_public(template: str, **context) -> str:
    """Render a template without the app's context processors.

    Those may read the session (Flask-Login's current_user does), which makes Flask send
    Vary: Cookie and could set a cookie; these pages are public and shared by every cache.
    """
    return current_app.jinja_env.get_template(template).render(**context)


def frame_error(status: int, message: str) -> Response:
    """A small error page that can still be shown inside the partner's iframe, so they see what is wrong."""
    response = make_response(render_public("widget/error.html", message=message, status=status), status)
    response.headers["Content-Security-Policy"] = frame_csp(None)
    response.headers["Cache-Control"] = "no-store"
    return response


def text_error(status: int, message: str) -> Response:
    response = make_response(message + "\n", status)
    response.mimetype = "text/plain"
    response.headers["Cache-Control"] = "no-store"
    return response


def json_error(status: int, message: str) -> Response:
    """The API's error shape, {"error": {"status", "message"}}, open to any origin."""
    response = jsonify(error={"status": status, "message": message})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
