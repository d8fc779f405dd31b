"""The signed-in organiser area: dashboard, exports, audit log, moderation, settings."""

from flask import Blueprint

bp = Blueprint("organiser", __name__, url_prefix="/organiser")

from app.organiser import views  # noqa: E402,F401
