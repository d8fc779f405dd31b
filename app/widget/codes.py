"""The embed codes the builder shows and /oembed returns, for one target, set of options and count."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from flask import current_app, request
from markupsafe import escape

from app.i18n import ROOT_SCRIPT_KEY, default_language, script_root_for
from app.services.card_layout import frame_height, label_lines, number_lines, small_lines
from app.services.embed import (
    OPTION_NAMES,
    SIZES,
    CardText,
    Options,
    Target,
    fill,
    sign_link,
)
from app.urls import absolute_url_for
from app.widget.badge import layout

# Where sign-ups came from when the partner gave no source of their own.
DEFAULT_SOURCES = {"script": "widget", "iframe": "widget-iframe", "badge": "badge", "oembed": "oembed"}
BADGE_OPTIONS = ("theme", "accent", "size", "lang", "paper", "verified")
# The codes give a language by address (/cy/widget/...), not by the lang option.
FRAME_URL_OPTIONS = tuple(name for name in OPTION_NAMES if name != "lang")
BADGE_URL_OPTIONS = tuple(name for name in BADGE_OPTIONS if name != "lang")


def _path_for(endpoint: str, language: str, **values: str | None) -> str:
    """url_for(endpoint, **values) as a path in a language (/cy/...), whatever the request's language."""
    anchor = values.pop("_anchor", None)
    root = request.environ.get(ROOT_SCRIPT_KEY, "") + script_root_for(language)
    path = current_app.url_map.bind(request.host, script_name=root or "/").build(endpoint, values)
    return f"{path}#{quote(anchor, safe='')}" if anchor else path


def _attributes(pairs: list[tuple[str, str | None]]) -> str:
    """HTML attributes, escaped; a None value is a bare boolean attribute."""
    return "".join(f" {name}" if value is None else f' {name}="{escape(value)}"' for name, value in pairs)


@dataclass(frozen=True)
class Embed:
    """One card as every kind of embed; its addresses are absolute, under SITE_URL (or relative, for previews)."""

    target: Target
    options: Options
    text: Mapping
    card: CardText
    absolute: bool = True

    def _url(self, endpoint: str, **values: str | None) -> str:
        """The address in the card's language: /cy/... for Welsh, whatever the page asking is in."""
        if self.absolute:
            return absolute_url_for(endpoint, _language=self.options.lang, **values)
        return _path_for(endpoint, self.options.lang, **values)

    def frame_url(self, default_source: str | None = None) -> str:
        query = self.options.query(FRAME_URL_OPTIONS)
        if default_source and "source" not in query:
            query["source"] = default_source
        return self._url("widget.frame", **self._target(), **query)

    def badge_url(self) -> str:
        query = self.options.query(BADGE_URL_OPTIONS)
        return self._url("widget.badge", **self._target(), **query)

    def _target(self) -> dict[str, str | None]:
        """The target as URL values: a region's own rule, or a sector's and union's."""
        if self.target.region:
            return {"region": self.target.region}
        return {"sector": self.target.sector, "org": self.target.org}

    def sign_url(self, kind: str) -> str:
        link = sign_link(self.text, self.target, self.options.source or DEFAULT_SOURCES[kind])
        if link.sector is None:
            return self._url("pledge.index", _anchor="sign")
        return self._url("pledge.sign", sector_slug=link.sector, **link.query)

    def frame_size(self) -> tuple[int, int]:
        size = SIZES[self.options.size]
        lines = len(label_lines(self.card.who)) + (1 if self.card.paper_line else 0)
        if self.card.verified_forms:  # room for the verified line even before anyone has verified
            lines += len(small_lines(fill(self.card.verified_forms["other"], v="10,000")))
        # A region's figure may be hidden by the disclosure rule at any time: room for "Fewer than 10".
        numbers = number_lines(self.text["fewer"] if self.target.region else self.card.number)
        return size.width, frame_height(size, lines, self.card.goal is not None, numbers)

    def script_code(self) -> str:
        pairs: list[tuple[str, str | None]] = [("src", self._url("widget.script"))]
        if self.options.lang != default_language():  # widget.js draws only the cards in its own language
            pairs.append(("data-lang", self.options.lang))
        targets = [(f"data-{name}", value) for name, value in self._target().items() if value]
        pairs.extend(targets or [("data-care-dont-share", None)])
        for name, value in self.options.query(("theme", "accent", "size", "source", "paper", "verified")).items():
            pairs.append((f"data-{name}", f"#{value}" if name == "accent" else value))
        return f"<script async{_attributes(pairs)}></script>"

    def iframe_code(self, width: int | None = None, height: int | None = None, source: str | None = None) -> str:
        natural_width, natural_height = self.frame_size()
        pairs: list[tuple[str, str | None]] = [
            ("src", self.frame_url(source)),
            ("width", str(width or natural_width)),
            ("height", str(height or natural_height)),
            ("title", self.card.title),
            ("frameborder", "0"),
            ("scrolling", "no"),
            ("loading", "lazy"),
            ("style", "border:0;max-width:100%"),
        ]
        return f"<iframe{_attributes(pairs)}></iframe>"

    def badge_code(self) -> str:
        badge = layout(self.card, self.options, self.text["sign"])
        link = _attributes([("href", self.sign_url("badge"))])
        image = _attributes(
            [
                ("src", self.badge_url()),
                ("width", str(badge.width)),
                ("height", str(badge.height)),
                ("alt", self.card.title),
                ("border", "0"),
            ]
        )
        # The text link is for email programs that do not show SVG images (Gmail and Outlook among them).
        return f"<a{link}><img{image}></a><br>\n<a{link}>{escape(self.text['sign'])}</a>"

    def codes(self) -> dict[str, str]:
        return {
            "script": self.script_code(),
            "iframe": self.iframe_code(),
            "badge": self.badge_code(),
            "wordpress": self.frame_url(),
        }
