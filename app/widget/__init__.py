"""The embeddable count and share cards: /widget.js, /widget/..., /badge/....svg, /oembed, /embed, /share/....png."""

from flask import Blueprint

bp = Blueprint("widget", __name__)


@bp.record_once
def _install_response_cache(state) -> None:
    from app.widget.response_cache import install

    install(state.app)


from app.widget import builder, oembed, share_cards, views  # noqa: E402,F401
