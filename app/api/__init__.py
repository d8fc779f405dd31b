"""The public JSON API and health check."""

from flask import Blueprint

bp = Blueprint("api", __name__)

from app.api import openapi, views  # noqa: E402,F401
