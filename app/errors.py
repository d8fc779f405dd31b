"""Error pages: friendly HTML for people, JSON for the API, never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

# (title, message) per status, lazy: in the language of the page (/cy/... is Welsh).
MESSAGES = {
    400: (_l("Something was wrong with that request"), _l("Please go back and try again.")),
    404: (_l("Page not found"), _l("Check the address, or start again from the home page.")),
    405: (_l("That did not work"), _l("This page cannot be used that way. Start again from the home page.")),
    413: (
        _l("That was too much to send"),
        _l("The form you sent was far larger than any real answer. Shorten it and try again."),
    ),
    429: (_l("Too many tries"), _l("Please wait a minute and try again.")),
    500: (_l("Sorry, something went wrong"), _l("We have been told about it. Please try again in a few minutes.")),
    503: (
        _l("Sorry, the site is busy"),
        _l("We could not reach our database just now, so nothing was saved. Please try again in a minute."),
    ),
}
RETRY_AFTER_SECONDS = 30


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def error_response(status: int, message: str | None = None, title: str | None = None):
    default_title, default_message = MESSAGES.get(status, MESSAGES[400 if status < 500 else 500])
    title, message = str(title or default_title), str(message or default_message)
    if wants_json():
        body = jsonify(error={"status": status, "message": message})
    else:
        body = render_template("errors/error.html", title=title, message=message, status=status)
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):
        description = error.description if wants_json() and error.code != 500 else None
        return error_response(error.code or 500, description)

    @app.errorhandler(CSRFError)
    def handle_csrf(error: CSRFError):
        return error_response(
            400,
            _(
                "This form had expired or was missing its security code, so nothing was saved. "
                "Go back, reload the page and send it again."
            ),
            _("Your form could not be sent"),
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def handle_database_down(error: DBAPIError):
        log.error("database unavailable: %s", type(error.orig).__name__ if error.orig else type(error).__name__)
        from app.extensions import db

        db.session.rollback()
        return error_response(503)

    @app.errorhandler(DataError)
    def handle_unstorable_value(error: DataError):
        # A value the database refuses (PostgreSQL: a NUL byte in text) came with the request;
        # the database is up, so this is a bad request, not a 503 outage.
        log.warning("database refused a value: %s", type(error.orig).__name__ if error.orig else "DataError")
        from app.extensions import db

        db.session.rollback()
        return error_response(400)

    @app.errorhandler(InternalServerError)
    def handle_500(error: InternalServerError):
        original = getattr(error, "original_exception", None)
        if isinstance(original, DBAPIError):
            return handle_database_down(original)
        log.error("unhandled error on %s: %s", request.endpoint, type(original).__name__)
        return error_response(500)


def invalid_link():
    """The 404 for any emailed link of ours that is malformed, forged or revoked: it never says which."""
    return error_response(
        404,
        _("This link is not valid. Check that you copied the whole link from the email."),
        _("This link is not valid"),
    )
