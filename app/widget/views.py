"""The live embeds: /widget.js, the /widget/... iframe and the /badge/....svg badge.

Each parses its options, reads the counts and renders; app/widget/response_cache.py answers repeats
for a second. None of them touches the session or renders a CSRF token, so they set no cookie.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import cache
from pathlib import Path

import rjsmin
from flask import current_app, make_response, request, url_for

from app import cache_control
from app.i18n import default_language, script_root_for
from app.services.embed import OPTION_NAMES, InvalidEmbed, Target
from app.widget import bp
from app.widget.badge import layout
from app.widget.cards import UnknownTarget, card_for, query_options
from app.widget.codes import BADGE_OPTIONS
from app.widget.oembed import oembed_href
from app.widget.responses import (
    BADGE_CSP,
    cacheable,
    frame_csp,
    frame_error,
    render_public,
    text_error,
)
from app.widget.text import script_places, script_words

# The iframe page's own rules (widget.css is shared with widget.js, where every byte counts); CSP allows it by hash.
FRAME_STYLE = "body{margin:0}"


# widget.css's custom properties by one-letter names in the copy widget.js inlines: only the card's
# shadow root sees them (its .cds rule sets them all), and widget.js sets --a and --o for data-accent.
# The browser tests check the accent still reaches the button.
SCRIPT_CSS_PROPERTIES = {
    "--accent": "--a",
    "--on-accent": "--o",
    "--ink": "--i",
    "--muted": "--m",
    "--paper": "--p",
    "--line": "--l",
    "--track": "--t",
}
# An object key JavaScript takes unquoted.
IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*", re.ASCII)


def _minified_css(path: Path) -> str:
    """widget.css without comments and spare whitespace, to inline into widget.js."""
    css = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    css = re.sub(r"\s+", " ", css)
    css = re.sub(r"\s*([{};,>])\s*", r"\1", css)
    return re.sub(r":\s+", ":", css).replace(" !important", "!important").replace(";}", "}").strip()


def _script_css(path: Path) -> str:
    """widget.css minified, its custom properties renamed (SCRIPT_CSS_PROPERTIES), for widget.js."""
    return re.sub(r"(?<![\w-])--[\w-]+", lambda m: SCRIPT_CSS_PROPERTIES.get(m[0], m[0]), _minified_css(path))


def _compact_json(value: object) -> str:
    """JSON for a script: compact, and with <, > and & escaped so it can never end a <script>."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _script_literal(value: object) -> str:
    """_compact_json, with the keys that are identifiers unquoted ({sector:"education"}): a JavaScript
    object literal, some bytes smaller than JSON for the script's words."""
    if isinstance(value, dict):
        items = (
            f"{key if IDENTIFIER.fullmatch(key) else _compact_json(key)}:{_script_literal(item)}"
            for key, item in value.items()
        )
        return "{" + ",".join(items) + "}"
    return _compact_json(value)


@cache
def _script_source(lang: str, poll_seconds: int, static_folder: str) -> str:
    """widget.js for one language, its spare whitespace stripped (rjsmin: it renames nothing, so the
    served code reads as the template does, and it pays for the region, paper and verified lines).
    At most 3 KB gzipped in every language: hence words without repeats (script_words), keys unquoted,
    short custom properties, and the region phrases apart (script_place_phrases)."""
    root = script_root_for(lang)
    source = render_public(
        "widget/widget.js",
        text=_script_literal(script_words(lang)),
        css=_compact_json(_script_css(Path(static_folder) / "css" / "widget.css")),
        poll_seconds=poll_seconds,
        lang=_compact_json(lang),
        default_lang=_compact_json(default_language()),
        root=_compact_json(root) if root else None,
        places_url=_compact_json(f"{root}/widget/places.json") if root else None,
    )
    return rjsmin.jsmin(source) + "\n"


@bp.get("/widget.js")
def script():
    """The script card, in the address's language (/cy/widget.js) or the one ?lang= chooses."""
    try:
        options = query_options(("lang",))
    except InvalidEmbed as error:
        return text_error(400, str(error))
    source = _script_source(options.lang, current_app.config["COUNT_POLL_SECONDS"], current_app.static_folder)
    response = make_response(source)
    response.mimetype = "text/javascript"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return cacheable(response, cache_control.UNTIL_DEPLOY).make_conditional(request)


@bp.get("/widget/places.json")
def script_place_phrases():
    """What the script's region cards say for each place, in the address's language (/cy/widget/places.json)."""
    try:
        options = query_options(("lang",))
    except InvalidEmbed as error:
        return text_error(400, str(error))
    response = make_response(_compact_json(script_places(options.lang)))
    response.mimetype = "application/json"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return cacheable(response, cache_control.UNTIL_DEPLOY).make_conditional(request)


@bp.get("/widget/all", defaults={"sector": None, "org": None})
@bp.get("/widget/sector/<sector>", defaults={"org": None})
@bp.get("/widget/union/<org>", defaults={"sector": None})
@bp.get("/widget/union/<org>/<sector>")
@bp.get("/widget/region/<region>", defaults={"sector": None, "org": None})
def frame(sector: str | None, org: str | None, region: str | None = None):
    """The card as a page for an iframe: framable from any site, live through widget-frame.js."""
    try:
        options = query_options(OPTION_NAMES)
        card = card_for(Target(sector=sector, org=org, region=region), options)
    except InvalidEmbed as error:
        return frame_error(400, str(error))
    except UnknownTarget as error:
        return frame_error(404, str(error))
    embed = card.embed
    accent = f".cds{{--accent:{options.accent_colour};--on-accent:{options.text_on_accent}}}"
    page_style = FRAME_STYLE + (accent if options.accent else "")
    filters = {name: value for name, value in (("sector", sector), ("org", org)) if value}
    response = make_response(
        render_public(
            "widget/frame.html",
            card=embed.card,
            text=embed.text,
            options=options,
            count=card.count,
            goal=card.goal,
            page_style=page_style,
            counts_url=url_for("api.regions") if region else url_for("api.counts", **filters),
            region=region,
            sign_url=replace(embed, absolute=False).sign_url("iframe"),  # same site: relative
            oembed_href=oembed_href(embed.frame_url()),
        )
    )
    response.headers["Content-Security-Policy"] = frame_csp(page_style)
    return cacheable(response, cache_control.live_count(), card.updated_at).make_conditional(request)


@bp.get("/badge/all.svg", defaults={"sector": None, "org": None})
@bp.get("/badge/sector/<sector>.svg", defaults={"org": None})
@bp.get("/badge/union/<org>.svg", defaults={"sector": None})
@bp.get("/badge/union/<org>/<sector>.svg")
@bp.get("/badge/region/<region>.svg", defaults={"sector": None, "org": None})
def badge(sector: str | None, org: str | None, region: str | None = None):
    """The card as an SVG image with the count of the moment, for email and pages without JavaScript."""
    try:
        options = query_options(BADGE_OPTIONS)
        card = card_for(Target(sector=sector, org=org, region=region), options)
    except InvalidEmbed as error:
        return text_error(400, str(error))
    except UnknownTarget as error:
        return text_error(404, str(error))
    embed = card.embed
    svg = render_public(
        "widget/badge.svg", card=embed.card, text=embed.text, badge=layout(embed.card, options, embed.text["sign"])
    )
    response = make_response(svg)
    response.mimetype = "image/svg+xml"
    response.headers["Content-Security-Policy"] = BADGE_CSP
    return cacheable(response, cache_control.live_count(), card.updated_at).make_conditional(request)
