"""The signed-in organiser area: sign-in, dashboard, exports, audit log, moderation, settings, accounts."""

from flask import Blueprint

bp = Blueprint("organiser", __name__, url_prefix="/organiser")

from app.organiser import access, accounts, audit, auth, exports, moderation, settings, views  # noqa: E402,F401
