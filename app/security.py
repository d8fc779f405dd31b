"""Security headers on every response, and no-store on forms and token pages."""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import Flask, Response, make_response, request
from flask.sessions import SecureCookieSessionInterface

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
    "object-src 'none'; frame-ancestors 'none'"
)


class PublicAwareSessionInterface(SecureCookieSessionInterface):
    """Flask adds "Vary: Cookie" whenever anything read the session (Flask-Login always does).
    A response marked public is the same for everyone, so drop it there: caches and CDNs
    would otherwise keep one copy per visitor's cookie."""

    def save_session(self, app: Flask, session, response: Response) -> None:
        super().save_session(app, session, response)
        if "public" in (response.headers.get("Cache-Control") or "") and not session.modified:
            response.vary.discard("Cookie")


def register(app: Flask) -> None:
    app.session_interface = PublicAwareSessionInterface()

    @app.after_request
    def add_security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
        if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
            headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        return response


def no_store(view: Callable) -> Callable:
    """View decorator for pages with forms or secret links: whatever the view returns gets mark_no_store."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        return mark_no_store(make_response(view(*args, **kwargs)))

    return wrapped


def mark_no_store(response: Response) -> Response:
    """For pages with forms or secret links: never cached, never sent on as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    if request.view_args and "token" in request.view_args:
        response.headers["Referrer-Policy"] = "no-referrer"
    return response
