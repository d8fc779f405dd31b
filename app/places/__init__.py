"""Support by place: the map (/map, /map/<region>) and printable delivery packs (/delivery/<region>)."""

from flask import Blueprint

bp = Blueprint("places", __name__)

from app.places import views  # noqa: E402,F401
