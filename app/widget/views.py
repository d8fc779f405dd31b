"""The embeddable count's routes. Views parse the options, read the briefly cached counts and render.

None of these touch the session or render a CSRF token, so they set no cookie and send no Vary: Cookie.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import current_app, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from app import content_loader
from app.services.counts import UnknownFilter
from app.services.embed import (
    OPTION_NAMES,
    SIZES,
    SLUG_PATTERN,
    THEMES,
    InvalidEmbed,
    Options,
    Target,
    card_numbers,
    describe,
    parse_options,
    parse_slug,
    script_text,
    sign_path,
    single_values,
)
from app.widget import bp
from app.widget.badge import layout
from app.widget.codes import BADGE_OPTIONS, DEFAULT_SOURCES, Embed
from app.widget.counts_cache import counts_for
from app.widget.responses import (
    BADGE_CSP,
    conditional,
    count_cache_control,
    frame_csp,
    frame_error,
    json_error,
    render_public,
    text_error,
)
from app.widget.text import languages, text_for

# widget.js changes only when we deploy: browsers and CDNs keep it an hour, then revalidate.
SCRIPT_CACHE_CONTROL = "public, max-age=3600, stale-while-revalidate=86400, stale-if-error=604800"
# An oEmbed answer (the iframe code) does not change with the count.
OEMBED_CACHE_CONTROL = "public, max-age=3600, stale-while-revalidate=86400, stale-if-error=604800"
OEMBED_PARAMETERS = ("url", "format", "maxwidth", "maxheight")
BUILDER_PARAMETERS = ("sector", "org", *OPTION_NAMES)


class NotEmbeddable(LookupError):
    """An oEmbed url that is not one of this site's sector, union or widget pages."""


class UnknownTarget(LookupError):
    """A sector or union slug we do not have; field says which."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Card:
    """One card at the current count: every embed of it, the numbers, and when they last changed."""

    embed: Embed
    count: int
    goal: int | None
    updated_at: datetime | None


def _site() -> str:
    return current_app.config["SITE_URL"]


def _query(allowed: tuple[str, ...]) -> dict[str, str]:
    return single_values(request.args.to_dict(flat=False), allowed)


def _card(target: Target, options: Options, site: str | None = None) -> Card:
    """The card for target at the current count; raises UnknownTarget. site="" gives relative URLs."""
    text = text_for(options.lang)
    for field, name, slug, known in (
        ("sector", "sector", target.sector, text["sectors"]),
        ("org", "union", target.org, text["orgs"]),
    ):
        if slug is not None and (slug not in known or not SLUG_PATTERN.match(slug)):
            raise UnknownTarget(f"There is no {name} {slug!r}.", field)
    try:
        counts = counts_for(target)
    except UnknownFilter as error:  # in the content files but not yet seeded into the database
        raise UnknownTarget(str(error), "sector" if target.sector else "org") from None
    count, goal = card_numbers(counts, target)
    card = describe(text, options.lang, target, count, goal)
    embed = Embed(site=_site() if site is None else site, target=target, options=options, text=text, card=card)
    return Card(embed=embed, count=count, goal=goal, updated_at=counts.updated_at)


# --- the script embed ------------------------------------------------------------------------------


def _minified_css(path: Path) -> str:
    """widget.css without comments and spare whitespace, to inline into widget.js."""
    css = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    css = re.sub(r"\s+", " ", css)
    css = re.sub(r"\s*([{};,>])\s*", r"\1", css)
    return re.sub(r":\s+", ":", css).replace(";}", "}").strip()


def _compact_json(value: object) -> str:
    """JSON for a script: compact, and with <, > and & escaped so it can never end a <script>."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@cache
def _script_source(lang: str, poll_seconds: int, static_folder: str) -> str:
    """widget.js for one language, without indentation (the template is written to allow that)."""
    source = render_public(
        "widget/widget.js",
        text=_compact_json(script_text(text_for(lang))),
        css=_compact_json(_minified_css(Path(static_folder) / "css" / "widget.css")),
        poll_seconds=poll_seconds,
        lang=_compact_json(lang),
    )
    return "\n".join(line.strip() for line in source.splitlines() if line.strip()) + "\n"


@bp.get("/widget.js")
def script():
    try:
        options = parse_options(_query(("lang",)), languages())
    except InvalidEmbed as error:
        return text_error(400, str(error))
    source = _script_source(options.lang, current_app.config["COUNT_POLL_SECONDS"], current_app.static_folder)
    response = make_response(source)
    response.mimetype = "text/javascript"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return conditional(response, SCRIPT_CACHE_CONTROL)


# --- the iframe and the badge ----------------------------------------------------------------------


@bp.get("/widget/all", defaults={"sector": None, "org": None})
@bp.get("/widget/sector/<sector>", defaults={"org": None})
@bp.get("/widget/union/<org>", defaults={"sector": None})
@bp.get("/widget/union/<org>/<sector>")
def frame(sector: str | None, org: str | None):
    try:
        options = parse_options(_query(OPTION_NAMES), languages())
        card = _card(Target(sector=sector, org=org), options)
    except InvalidEmbed as error:
        return frame_error(400, str(error))
    except UnknownTarget as error:
        return frame_error(404, str(error))
    embed = card.embed
    accent_style = f".cds{{--accent:{options.accent_colour};--on-accent:{options.text_on_accent}}}"
    accent_style = accent_style if options.accent else None
    filters = {name: value for name, value in (("sector", sector), ("org", org)) if value}
    response = make_response(
        render_public(
            "widget/frame.html",
            card=embed.card,
            text=embed.text,
            options=options,
            count=card.count,
            goal=card.goal,
            accent_style=accent_style,
            counts_url="/api/v1/counts" + (f"?{urlencode(filters)}" if filters else ""),
            sign_path=sign_path(embed.text, embed.target, options.source or DEFAULT_SOURCES["iframe"]),
            oembed_href=_oembed_href(embed.frame_url()),
        )
    )
    response.headers["Content-Security-Policy"] = frame_csp(accent_style)
    return conditional(response, count_cache_control(), card.updated_at)


@bp.get("/badge/all.svg", defaults={"sector": None, "org": None})
@bp.get("/badge/sector/<sector>.svg", defaults={"org": None})
@bp.get("/badge/union/<org>.svg", defaults={"sector": None})
@bp.get("/badge/union/<org>/<sector>.svg")
def badge(sector: str | None, org: str | None):
    try:
        options = parse_options(_query(BADGE_OPTIONS), languages())
        card = _card(Target(sector=sector, org=org), options)
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
    return conditional(response, count_cache_control(), card.updated_at)


# --- oEmbed ----------------------------------------------------------------------------------------


def _oembed_href(page_url: str) -> str:
    return f"{_site()}/oembed?{urlencode({'url': page_url, 'format': 'json'})}"


@bp.app_template_global()
def oembed_discovery_href() -> str:
    """The oEmbed address for the sector or union page being rendered (their <head> links to it)."""
    page = _site() + request.path
    org = request.args.get("org") if request.endpoint == "pledge.sign" else None
    if org and SLUG_PATTERN.match(org):
        page += "?" + urlencode({"org": org})
    return _oembed_href(page)


def _page_embed(url: str) -> tuple[Target, Options]:
    """What a page of this site embeds as: its sector, union (with ?org=) or the widget it is."""
    parts = urlsplit(url)
    hosts = {urlsplit(_site()).netloc.lower(), request.host.lower()}
    if parts.scheme not in ("http", "https") or parts.netloc.lower() not in hosts:
        raise NotEmbeddable
    try:
        endpoint, values = current_app.url_map.bind(parts.netloc).match(parts.path, method="GET")
    except HTTPException:
        raise NotEmbeddable from None
    query = parse_qs(parts.query, keep_blank_values=True)
    if endpoint == "pledge.sign":
        return Target(sector=values["sector_slug"], org=parse_slug("org", query.get("org", [""])[0])), Options()
    if endpoint == "pledge.union":
        return Target(org=values["org_slug"]), Options()
    if endpoint == "widget.frame":
        return Target(values["sector"], values["org"]), parse_options(single_values(query, OPTION_NAMES), languages())
    raise NotEmbeddable


def _dimension(values: dict[str, str], name: str) -> int | None:
    value = values.get(name)
    if value is None:
        return None
    if not value.isdigit() or not 0 < int(value) <= 10000:
        raise InvalidEmbed(f"{name} must be a whole number of pixels from 1 to 10000.", name)
    return int(value)


def _fitted(options: Options, maxwidth: int | None) -> Options:
    """The requested size, or the largest that fits maxwidth (the smallest if none does)."""
    if maxwidth is None or SIZES[options.size].width <= maxwidth:
        return options
    fitting = [s for s in SIZES.values() if s.width <= maxwidth] or [min(SIZES.values(), key=lambda s: s.width)]
    return Options(**{**options.__dict__, "size": max(fitting, key=lambda s: s.width).name})


@bp.get("/oembed")
def oembed():
    """oEmbed 1.0 (https://oembed.com): a "rich" answer whose html is the iframe.

    Only JSON: format=xml (or anything else) gets 501 Not Implemented, as the spec asks. Consumers
    add parameters of their own (WordPress sends dnt=1), so parameters we do not know are ignored.
    """
    try:
        values = {name: given[-1] for name, given in request.args.to_dict(flat=False).items()}
        values = {name: values[name] for name in OEMBED_PARAMETERS if name in values}
        if values.get("format", "json") != "json":
            return json_error(501, "Only format=json is available.")
        if not values.get("url"):
            raise InvalidEmbed("Give the url of a sector or union page of this site.", "url")
        maxwidth, maxheight = _dimension(values, "maxwidth"), _dimension(values, "maxheight")
        target, options = _page_embed(values["url"])
        options = _fitted(options, maxwidth)
        embed = _card(target, options).embed
    except InvalidEmbed as error:
        return json_error(400, str(error))
    except (NotEmbeddable, UnknownTarget):
        return json_error(
            404, "There is no embed for that url: give a sector (/sign/...) or union (/unions/...) page of this site."
        )
    width, height = embed.frame_size()
    width = min(width, maxwidth or width)
    height = min(height, maxheight or height)
    body = {
        "version": "1.0",
        "type": "rich",
        "provider_name": embed.text["campaign"],
        "provider_url": _site() + "/",
        "title": embed.card.title,
        "html": embed.iframe_code(width, height, source=DEFAULT_SOURCES["oembed"]),
        "width": width,
        "height": height,
        "cache_age": 86400,
    }
    response = make_response(json.dumps(body, separators=(",", ":")))
    response.mimetype = "application/json"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return conditional(response, OEMBED_CACHE_CONTROL)


# --- the builder -----------------------------------------------------------------------------------


def _builder_choices() -> tuple[Target, Options]:
    values = _query(BUILDER_PARAMETERS)
    target = Target(
        sector=parse_slug("sector", values.pop("sector", None)), org=parse_slug("org", values.pop("org", None))
    )
    return target, parse_options(values, languages())


def _builder_json(embed: Embed, preview: Embed) -> dict:
    width, height = preview.frame_size()
    badge = layout(preview.card, preview.options, preview.text["sign"])
    return {
        "codes": embed.codes(),
        "frame": {"src": preview.frame_url(), "width": width, "height": height},
        "badge": {"src": preview.badge_url(), "width": badge.width, "height": badge.height},
    }


@bp.get("/embed")
def builder():
    """The embed builder. It works as a plain GET form; static/js/embed-builder.js makes it live."""
    try:
        target, options = _builder_choices()
        card, error = _card(target, options), None
    except (InvalidEmbed, UnknownTarget) as problem:
        target, options = Target(), Options()
        card, error = _card(target, options), problem
    preview = _card(target, options, site="").embed
    return make_response(
        render_template(
            "widget/builder.html",
            embed=card.embed,
            preview=_builder_json(card.embed, preview),
            target=target,
            options=options,
            error=error,
            sectors=content_loader.sectors(),
            organisations=content_loader.organisations(),
            languages=languages(),
            themes=THEMES,
            sizes=SIZES,
        ),
        400 if error else 200,
    )


@bp.get("/embed/codes.json")
def builder_codes():
    """The builder's codes and preview addresses for its current choices, for embed-builder.js."""
    try:
        target, options = _builder_choices()
        embed = _card(target, options).embed
        preview = _card(target, options, site="").embed
    except (InvalidEmbed, UnknownTarget) as error:
        return json_error(400, str(error))
    response = make_response(json.dumps(_builder_json(embed, preview)))
    response.mimetype = "application/json"
    response.headers["Cache-Control"] = "no-cache"
    return response
