"""The embed builder (/embed): choose what to show and how, see it, copy the code for each kind of embed."""

from __future__ import annotations

import json
from dataclasses import replace

from flask import make_response, render_template

from app import content_loader
from app.i18n import current_language
from app.services.embed import OPTION_NAMES, SIZES, THEMES, InvalidEmbed, Options, Target, parse_slug
from app.widget import bp
from app.widget.badge import layout
from app.widget.cards import Card, UnknownTarget, card_for, options_from, query_values
from app.widget.responses import json_error
from app.widget.text import languages, place_names

BUILDER_PARAMETERS = ("sector", "org", "region", *OPTION_NAMES)


def _choices() -> tuple[Target, Options]:
    values = query_values(BUILDER_PARAMETERS)
    sector, org = parse_slug("sector", values.pop("sector", None)), parse_slug("org", values.pop("org", None))
    region = parse_slug("region", values.pop("region", None))
    return Target(sector=sector, org=org, region=region), options_from(values)


def _codes_and_preview(card: Card) -> dict:
    """The codes to copy (absolute addresses) and the preview's (relative, so the page's CSP allows them)."""
    preview = replace(card.embed, absolute=False)
    width, height = preview.frame_size()
    badge = layout(preview.card, preview.options, preview.text["sign"])
    return {
        "codes": card.embed.codes(),
        "frame": {"src": preview.frame_url(), "width": width, "height": height},
        "badge": {"src": preview.badge_url(), "width": badge.width, "height": badge.height},
    }


@bp.get("/embed")
def builder():
    """A plain GET form that works without JavaScript; static/js/embed-builder.js makes it live.

    The codes are in the language chosen, which starts as the page's (/cy/embed: Welsh)."""
    try:
        target, options = _choices()
        card, error = card_for(target, options), None
    except (InvalidEmbed, UnknownTarget) as problem:
        target, options = Target(), Options(lang=current_language())
        card, error = card_for(target, options), problem
    return make_response(
        render_template(
            "widget/builder.html",
            preview=_codes_and_preview(card),
            target=target,
            options=options,
            error=error,
            sectors=content_loader.sectors(),
            organisations=content_loader.organisations(),
            regions=place_names(current_language()),
            languages=languages(),
            themes=THEMES,
            sizes=SIZES,
        ),
        400 if error else 200,
    )


@bp.get("/embed/codes.json")
def builder_codes():
    """The codes and preview addresses for the builder's current choices, for embed-builder.js."""
    try:
        card = card_for(*_choices())
    except (InvalidEmbed, UnknownTarget) as error:
        return json_error(400, str(error))
    response = make_response(json.dumps(_codes_and_preview(card)))
    response.mimetype = "application/json"
    response.headers["Cache-Control"] = "no-cache"
    return response
