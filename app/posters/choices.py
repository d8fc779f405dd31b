"""What a poster is for: whose count it shows, where its QR code leads, and its words.

The choices are the embed builder's (a sector, a union or both, and a campaign code) checked by
the same rules, so a poster credits sign-ups just as an embed does. A poster is in the page's
language: one made at /cy/posters says its words in Welsh and its QR code opens the Welsh form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask_babel import format_date
from flask_babel import gettext as _

from app import content_loader
from app.services.embed import InvalidEmbed, Target, fill, parse_slug, sign_link
from app.urls import absolute_url_for
from app.widget.cards import Card, card_for, options_from, query_values

POSTER_PARAMETERS = ("sector", "org", "source")
# Credited to sign-ups from a poster whose maker gave no campaign code of their own.
DEFAULT_SOURCE = "poster"
COPY = "posters"
UK = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Poster:
    """One poster's choices, with the count of the moment and the address its QR code opens."""

    target: Target
    source: str | None  # as given; sign_url credits DEFAULT_SOURCE when this is None
    card: Card
    sign_url: str
    why: str

    def query(self) -> dict[str, str]:
        """The choices as query parameters, for links to this poster's pages and downloads."""
        pairs = (("sector", self.target.sector), ("org", self.target.org), ("source", self.source))
        return {name: value for name, value in pairs if value}

    @property
    def address(self) -> str:
        """sign_url without its scheme, to print under the QR code for people who type it in."""
        parts = urlsplit(self.sign_url)
        return parts.netloc + parts.path + (f"?{parts.query}" if parts.query else "")

    def filename(self, extension: str) -> str:
        """A download's name, e.g. care-dont-share-qr-education-neu-staffroom-1.svg (every part is URL-safe)."""
        parts = [self.target.sector, self.target.org, self.source]
        return "-".join(["care-dont-share-qr", *(part for part in parts if part)]) + f".{extension}"


def copy() -> dict:
    """The posters' words (app/content/posters.yaml)."""
    return content_loader.load_yaml(COPY)


def poster_from_query() -> Poster:
    """The poster the request's query asks for; raises InvalidEmbed or UnknownTarget with a message to show."""
    values = query_values(POSTER_PARAMETERS)
    target = Target(sector=parse_slug("sector", values.get("sector")), org=parse_slug("org", values.get("org")))
    if not (target.sector or target.org):
        raise InvalidEmbed(_("Choose a sector, a union or both, so the QR code opens the right form."), "sector")
    options = options_from({"source": values.get("source", "")})
    card = card_for(target, options)
    link = sign_link(card.embed.text, target, options.source or DEFAULT_SOURCE)
    why = copy()["why"]
    return Poster(
        target=target,
        source=options.source,
        card=card,
        sign_url=absolute_url_for("pledge.sign", sector_slug=link.sector, _language=options.lang, **link.query),
        why=why.get(link.sector) or why["default"],
    )


def count_taken(today: date | None = None) -> str:
    """The line under a poster's count, with today's date in the UK, e.g. "Count on 5 March 2025. ..."."""
    today = today or datetime.now(UK).date()
    return fill(copy()["count_taken"], date=format_date(today, "d MMMM y"))
