"""The widget's words per language: app/content/widget_text.yaml (English) with another language's
widget_text.<code>.yaml laid over it, and every sector, union and place filled in."""

from __future__ import annotations

from functools import cache

from app import content_loader, i18n
from app.services import geography
from app.services.embed import fill, resolve_text, script_text

CATALOGUE = "widget_text"


def languages() -> dict[str, str]:
    """The site's languages (LANGUAGES), code to name in that language, the default first."""
    return {code: i18n.language_name(code) for code in i18n.languages()}


def place_names(lang: str) -> dict[str, str]:
    """Each region's name, then "elsewhere"'s, in a language (content/postcode_areas.<code>.yaml)."""
    slugs = [region.slug for region in geography.regions()] + [geography.ELSEWHERE]
    return {slug: geography.place_name(slug, lang) for slug in slugs}


@cache
def text_for(lang: str) -> dict:
    """The resolved words for one language, whatever language is being rendered."""
    return resolve_text(
        content_loader.load_yaml(CATALOGUE, language=lang),
        content_loader.load_yaml("sectors", language=lang),
        content_loader.load_yaml("organisations", language=lang),
        place_names(lang),
    )


def script_words(lang: str) -> dict:
    """What widget.js embeds for one language: its words, and its names for places where they are
    not the ones /api/v1/regions gives (those are the default language's)."""
    return script_text(text_for(lang), places=lang != i18n.default_language())


def in_place(slug: str, lang: str) -> str:
    """ "in Wales", "yng Nghymru": a region, or "elsewhere", as the cards say it (in_place and places)."""
    text = text_for(lang)
    return fill(text["in_place"], area=text["places"][slug])
