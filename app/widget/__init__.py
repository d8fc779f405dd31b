"""The embeddable count: /widget.js, the /widget/... iframe, the /badge/....svg badge, /oembed and /embed."""

from flask import Blueprint

bp = Blueprint("widget", __name__)


@bp.record_once
def _install_response_cache(state) -> None:
    from app.widget.response_cache import install

    install(state.app)


from app.widget import builder, oembed, views  # noqa: E402,F401
