"""The signed-in organiser area: sign-in, dashboard, exports, audit log, moderation, settings, accounts, paper."""

from flask import Blueprint

bp = Blueprint("organiser", __name__, url_prefix="/organiser")

from app.organiser import (  # noqa: E402,F401
    access,
    accounts,
    audit,
    auth,
    exports,
    moderation,
    paper,
    settings,
    updates,
    views,
)
