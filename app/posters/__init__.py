"""Printable posters and flyers (/posters) with QR codes that open a form crediting a union and a campaign code."""

from flask import Blueprint

bp = Blueprint("posters", __name__)

from app.posters import views  # noqa: E402,F401
