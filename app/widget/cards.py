"""One card at the current count, for every kind of embed; shared by the widget, oEmbed and builder views."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from flask import request

from app.extensions import db
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
    people,
    single_values,
)
from app.widget.codes import Embed
from app.widget.text import text_for


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


def card_for(target: Target, options: Options) -> Card:
    """The card for target at the current count; raises UnknownTarget."""
    text = text_for(options.lang)
    for field, name, slug, known in (
        ("sector", "sector", target.sector, text["sectors"]),
        ("org", "union", target.org, text["orgs"]),
    ):
        if slug is not None and (not SLUG_PATTERN.match(slug) or slug not in known):
            raise UnknownTarget(f"There is no {name} {slug!r}.", field)
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
        raise InvalidEmbed("Show a region on its own, without a sector or union.", "region")
    try:
        figure = region_figures(db.session, target.region or "")
    except UnknownRegion:
        raise UnknownTarget(f"There is no region {target.region!r}.", "region") from None
    card = describe(text, options.lang, target, figure.count or 0, None)
    if figure.count is None:
        number = text["fewer"]
        forms = {form: fill(phrase, people=people(text, target, "other")) for form, phrase in text["signed"].items()}
        card = replace(card, number=number, who=forms["other"], sentence=f"{number} {forms['other']}")
    embed = Embed(target=target, options=options, text=text, card=card)
    return Card(embed=embed, count=figure.count or 0, goal=None, updated_at=None)
