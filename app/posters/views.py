"""/posters (the builder), the A4 poster and A5 flyers to print, and the QR code as SVG and PNG downloads."""

from __future__ import annotations

from flask import make_response, render_template, request
from flask_babel import gettext as _

from app import cache_control, content_loader
from app.posters import bp, qr
from app.posters.choices import POSTER_PARAMETERS, Poster, copy, count_taken, poster_from_query
from app.services.embed import InvalidEmbed
from app.widget.cards import UnknownTarget
from app.widget.responses import BADGE_CSP, cacheable, text_error


def _qr_label(poster: Poster) -> str:
    return _("QR code: opens %(address)s", address=poster.sign_url)


def _builder(poster: Poster | None, error: Exception | None):
    chosen = {name: request.args.get(name, "") for name in POSTER_PARAMETERS}
    return make_response(
        render_template(
            "posters/builder.html",
            poster=poster,
            error=error,
            chosen=chosen,
            qr=qr.inline_svg(poster.sign_url, _qr_label(poster)) if poster else None,
            sectors=content_loader.sectors(),
            organisations=content_loader.organisations(),
        ),
        400 if error else 200,
    )


@bp.get("/posters")
def builder():
    """A plain GET form: choose, then open the poster or flyers to print or download the QR code."""
    if not request.args:
        return _builder(None, None)
    try:
        return _builder(poster_from_query(), None)
    except (InvalidEmbed, UnknownTarget) as error:
        return _builder(None, error)


def _sheet(template: str):
    """A page to print. Bad choices show the builder with the problem, so it can be put right there."""
    try:
        poster = poster_from_query()
    except (InvalidEmbed, UnknownTarget) as error:
        return _builder(None, error)
    return render_template(
        template,
        poster=poster,
        qr=qr.inline_svg(poster.sign_url, _qr_label(poster)),
        words=copy(),
        pledge=content_loader.pledge(),
        taken=count_taken(),
    )


@bp.get("/posters/print")
def poster():
    """An A4 poster: the pledge, why it matters, the count today and a large QR code."""
    return _sheet("posters/print.html")


@bp.get("/posters/flyer")
def flyer():
    """Two A5 flyers on one A4 sheet, to cut in half."""
    return _sheet("posters/flyer.html")


@bp.get("/posters/qr.<any(svg, png):kind>")
def qr_code(kind: str):
    """The QR code alone, to download for a design of one's own; it changes only when we deploy."""
    try:
        poster = poster_from_query()
    except (InvalidEmbed, UnknownTarget) as error:
        return text_error(400, str(error))
    if kind == "svg":
        response = make_response(qr.svg_file(poster.sign_url, _qr_label(poster)))
        response.mimetype = "image/svg+xml"
    else:
        response = make_response(qr.png_file(poster.sign_url))
        response.mimetype = "image/png"
    response.headers["Content-Disposition"] = f'attachment; filename="{poster.filename(kind)}"'
    response.headers["Content-Security-Policy"] = BADGE_CSP
    return cacheable(response, cache_control.UNTIL_DEPLOY).make_conditional(request)
