"""oEmbed (https://oembed.com) for sector, union and widget pages, and the discovery links that point to it."""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

from flask import current_app, make_response, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app import cache_control
from app.i18n import default_language
from app.services.embed import (
    OPTION_NAMES,
    SIZES,
    SLUG_PATTERN,
    InvalidEmbed,
    Options,
    Target,
    parse_options,
    parse_slug,
    single_values,
)
from app.urls import absolute_url_for
from app.widget import bp
from app.widget.cards import UnknownTarget, card_for
from app.widget.codes import DEFAULT_SOURCES
from app.widget.responses import cacheable, json_error
from app.widget.text import languages

OEMBED_PARAMETERS = ("url", "format", "maxwidth", "maxheight")
MAX_DIMENSION = 10000


class NotEmbeddable(LookupError):
    """An address that is not one of this site's sector, union or widget pages."""


def oembed_href(page_url: str) -> str:
    return absolute_url_for("widget.oembed", url=page_url, format="json")


@bp.app_template_global()
def oembed_discovery_href() -> str:
    """The oEmbed address for the sector or union page being rendered (their <head> links to it)."""
    values = dict(request.view_args or {})
    org = request.args.get("org") if request.endpoint == "pledge.sign" else None
    if org and SLUG_PATTERN.match(org):
        values["org"] = org
    return oembed_href(absolute_url_for(request.endpoint, **values))


def _language_of(path: str) -> tuple[str, str]:
    """A page address's language and its path without the language's prefix: /cy/sign/x is ("cy", "/sign/x")."""
    code, _, rest = path[1:].partition("/")
    if code != default_language() and code in languages():
        return code, f"/{rest}"
    return default_language(), path


def page_embed(url: str) -> tuple[Target, Options]:
    """What a page of this site embeds as: its sector (with ?org=, its union too), its union, or
    the widget it is, with that widget's options, in the page's language (/cy/...: Welsh).
    Raises NotEmbeddable or InvalidEmbed."""
    parts = urlsplit(url)
    hosts = {urlsplit(current_app.config["SITE_URL"]).netloc.lower(), request.host.lower()}
    if parts.scheme not in ("http", "https") or parts.netloc.lower() not in hosts:
        raise NotEmbeddable
    language, path = _language_of(parts.path)
    try:
        endpoint, values = current_app.url_map.bind(parts.netloc).match(path, method="GET")
    except HTTPException:  # not found, or a redirect to elsewhere
        raise NotEmbeddable from None
    query = parse_qs(parts.query, keep_blank_values=True)
    if endpoint == "pledge.sign":
        org = parse_slug("org", query.get("org", [""])[0])
        return Target(sector=values["sector_slug"], org=org), Options(lang=language)
    if endpoint == "pledge.union":
        return Target(org=values["org_slug"]), Options(lang=language)
    if endpoint == "widget.frame":
        options = parse_options(single_values(query, OPTION_NAMES), languages(), language)
        return Target(values["sector"], values["org"]), options
    raise NotEmbeddable


def _dimension(values: dict[str, str], name: str) -> int | None:
    value = values.get(name)
    if value is None:
        return None
    if not value.isdigit() or not 0 < int(value) <= MAX_DIMENSION:
        raise InvalidEmbed(
            _l("%(name)s must be a whole number of pixels from 1 to %(most)s.", name=name, most=MAX_DIMENSION), name
        )
    return int(value)


def _fitted(options: Options, maxwidth: int | None) -> Options:
    """The requested size, or the largest that fits maxwidth (the smallest if none does)."""
    if maxwidth is None or SIZES[options.size].width <= maxwidth:
        return options
    fitting = [s for s in SIZES.values() if s.width <= maxwidth] or [min(SIZES.values(), key=lambda s: s.width)]
    return replace(options, size=max(fitting, key=lambda s: s.width).name)


@bp.get("/oembed")
def oembed():
    """A "rich" oEmbed answer whose html is the iframe, no wider or taller than maxwidth and maxheight.

    Only JSON: format=xml (or any other) gets 501 Not Implemented, as the oEmbed spec says. Consumers
    add parameters of their own (WordPress sends dnt=1), so parameters we do not know are ignored.
    The card is in the embedded page's language (a /cy/ page's card is Welsh); messages in /oembed's.
    """
    values = {name: given[-1] for name, given in request.args.to_dict(flat=False).items() if name in OEMBED_PARAMETERS}
    if values.get("format", "json") != "json":
        return json_error(501, _("Only format=json is available."))
    try:
        if not values.get("url"):
            raise InvalidEmbed(_("Give the url of a sector or union page of this site."), "url")
        maxwidth, maxheight = _dimension(values, "maxwidth"), _dimension(values, "maxheight")
        target, options = page_embed(values["url"])
        embed = card_for(target, _fitted(options, maxwidth)).embed
    except InvalidEmbed as error:
        return json_error(400, str(error))
    except (NotEmbeddable, UnknownTarget):
        message = _(
            "There is no embed for that url: give a sector (/sign/...) or union (/unions/...) page of this site."
        )
        return json_error(404, message)
    width, height = embed.frame_size()
    width, height = min(width, maxwidth or width), min(height, maxheight or height)
    body = {
        "version": "1.0",
        "type": "rich",
        "provider_name": embed.text["campaign"],
        "provider_url": absolute_url_for("pledge.index", _language=embed.options.lang),
        "title": embed.card.title,
        "html": embed.iframe_code(width, height, source=DEFAULT_SOURCES["oembed"]),
        "width": width,
        "height": height,
        "cache_age": 86400,
    }
    response = make_response(json.dumps(body, separators=(",", ":")))
    response.mimetype = "application/json"
    response.headers["Access-Control-Allow-Origin"] = "*"
    # The answer (the iframe code) does not change with the count.
    return cacheable(response, cache_control.UNTIL_DEPLOY).make_conditional(request)
