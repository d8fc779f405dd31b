"""Who may see organiser pages, and whose data they see. Every response is no-store."""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from app.organiser import bp
from app.services import audit


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
