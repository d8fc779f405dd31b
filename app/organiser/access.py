"""Who is signed in, which organiser pages they may see, and whose data. Every response is no-store."""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db, login_manager
from app.models import Organiser
from app.organiser import bp
from app.services import audit, organiser_sessions

# The cookie's only sign-in state: a random token naming a server-side OrganiserSession.
SESSION_TOKEN = "organiser_session"

# Pages that work before sign-in or before two-factor set-up. Every other organiser page needs
# a signed-in account with two-factor on; new pages are covered without doing anything.
OPEN_ENDPOINTS = frozenset(
    f"organiser.{name}"
    for name in ("login", "login_code", "set_password", "reset_password", "two_factor", "logout", "static")
)


@login_manager.request_loader
def load_organiser(_request) -> Organiser | None:
    """The account whose live server-side session the cookie's token names, else None.

    Flask-Login's login_user is never called: it would put a hash of the client's address
    (`_id`) in the cookie. Nothing but the token is stored there.
    """
    token = session.get(SESSION_TOKEN)
    if not isinstance(token, str):
        return None
    config = current_app.config
    return organiser_sessions.organiser_for_session(
        db.session,
        token,
        idle=timedelta(minutes=config["ORGANISER_IDLE_MINUTES"]),
        lifetime=timedelta(hours=config["ORGANISER_SESSION_MAX_HOURS"]),
    )


@login_manager.unauthorized_handler
def ask_to_sign_in():
    """Flask-Login's own answer (its message flashed, the sign-in page with next), in the page's language."""
    flash(_("Sign in to see that page."))
    return redirect(url_for("organiser.login", next=request.full_path.rstrip("?")))


@bp.before_request
def require_sign_in_and_two_factor():
    """Before any organiser view runs (and so before any name or email is shown): sign-in,
    then two-factor set-up, except on the few pages that lead there."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        if session.pop(SESSION_TOKEN, None) is not None:
            flash(_("Your session has ended. Sign in again."))
            return redirect(url_for(".login", next=request.path))
        return login_manager.unauthorized()
    if not current_user.totp_enabled:
        flash(_("Set up two-factor sign-in to continue."))
        return redirect(url_for(".two_factor"))
    return None


@bp.after_request
def never_store(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def admin_required(view):
    """login_required, then 403 for anyone who is not an admin."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def actor() -> audit.Actor:
    return audit.Actor.of(current_user)


def scope_org_id() -> int | None:
    """None for admins (everything); the organiser's own union otherwise."""
    return None if current_user.is_admin else current_user.organisation_id
