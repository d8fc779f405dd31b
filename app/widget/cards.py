"""One card at the current count, for every kind of embed; shared by the widget, oEmbed and builder views."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from flask import request
from flask_babel import gettext as _

from app.extensions import db
from app.i18n import current_language
from app.services.counts import UnknownFilter, get_counts
from app.services.delivery_packs import UnknownRegion, region_figures
from app.services.embed import (
    SLUG_PATTERN,
    InvalidEmbed,
    Options,
    Target,
    card_numbers,
    describe,
    fill,
    parse_options,
    people,
    single_values,
)
from app.widget.codes import Embed
from app.widget.text import languages, text_for


class UnknownTarget(LookupError):
    """A sector or union slug we do not have; field says which ("sector" or "org")."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Card:
    """A card at the current count: every embed of it, the numbers, and when they last changed."""

    embed: Embed
    count: int  # what the card's number shows: online, or online and paper added up if asked
    goal: int | None
    updated_at: datetime | None
    paper: int = 0


def query_values(allowed: tuple[str, ...]) -> dict[str, str]:
    """The request's query, one value per name, only the allowed names; raises InvalidEmbed."""
    return single_values(request.args.to_dict(flat=False), allowed)


def query_options(allowed: tuple[str, ...]) -> Options:
    """The card's options from the request's query; raises InvalidEmbed. Its language is the
    address's (/cy/widget/... is Welsh) unless the query chooses one with lang=."""
    return options_from(query_values(allowed))


def options_from(values: dict[str, str]) -> Options:
    """Options from query values, in the address's language unless they give lang; raises InvalidEmbed."""
    return parse_options(values, languages(), current_language())


def _unknown(slug: str | None, known: dict) -> bool:
    return slug is not None and (not SLUG_PATTERN.match(slug) or slug not in known)


def card_for(target: Target, options: Options) -> Card:
    """The card for target at the current count; raises UnknownTarget."""
    text = text_for(options.lang)
    if _unknown(target.sector, text["sectors"]):
        raise UnknownTarget(_("There is no sector %(slug)s.", slug=repr(target.sector)), "sector")
    if _unknown(target.org, text["orgs"]):
        raise UnknownTarget(_("There is no union %(slug)s.", slug=repr(target.org)), "org")
    if target.region is not None:
        return _region_card(target, options, text)
    try:
        counts = get_counts(db.session, sector=target.sector, org=target.org)
    except UnknownFilter as error:  # in the content files but not yet seeded into the database
        raise UnknownTarget(str(error), "sector" if target.sector else "org") from None
    count, goal = card_numbers(counts, target)
    verified = counts.verified_total if options.show_verified else None
    card = describe(text, options.lang, target, count, goal, counts.paper, options.add_paper, verified)
    embed = Embed(target=target, options=options, text=text, card=card)
    shown = count + counts.paper if options.add_paper else count
    return Card(embed=embed, count=shown, goal=goal, updated_at=counts.updated_at, paper=counts.paper)


def _region_card(target: Target, options: Options, text: dict) -> Card:
    """A region's card: its figure as /api/v1/regions publishes it; "Fewer than 10" when hidden.

    Regions have no paper tallies or verified counts, so those options change nothing here.
    """
    if target.sector or target.org:
        raise InvalidEmbed(_("Show a region on its own, without a sector or union."), "region")
    try:
        figure = region_figures(db.session, target.region or "")
    except UnknownRegion:
        raise UnknownTarget(_("There is no region %(slug)s.", slug=repr(target.region)), "region") from None
    card = describe(text, options.lang, target, figure.count or 0, None)
    if figure.count is None:
        number = text["fewer"]
        who = fill(text["signed"]["other"], people=people(text, target, "other"))
        card = replace(card, number=number, who=who, sentence=fill(text["count_sentence"], number=number, who=who))
    embed = Embed(target=target, options=options, text=text, card=card)
    return Card(embed=embed, count=figure.count or 0, goal=None, updated_at=None)
