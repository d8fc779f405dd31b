"""The embeddable count: /widget.js, the /widget/... iframe, the /badge/....svg badge, /oembed and /embed."""

from flask import Blueprint

bp = Blueprint("widget", __name__)

from app.widget import views  # noqa: E402,F401
