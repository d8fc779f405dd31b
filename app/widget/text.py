"""The widget's words per language: app/content/widget_text.yaml (English) with another language's
widget_text.<code>.yaml laid over it, and every sector, union and place filled in."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from app import content_loader, i18n
from app.services import geography
from app.services.embed import PLURAL_CATEGORIES, fill, resolve_text

CATALOGUE = "widget_text"

# The words widget.js reads as they are, and the phrases with plural forms; sectors and unions
# follow in script_words().
SCRIPT_KEYS = ("locale", "campaign", "sign", "goal", "goal_label", "in_area", "paper", "verified", "fewer")
PLURAL_KEYS = ("signed", "total", "verified_people")


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


def script_forms(forms: Mapping[str, str]) -> dict[str, str]:
    """A phrase's plural forms (and its other keys, such as a sector's area) without the categories
    that say what "other" says: widget.js's form() says "other" for a category the phrase lacks.

    (Falling back from Welsh "two" to "one" as well would spare "aelod o {org}" ("2 aelod o NEU") but
    cost policing's "two", which is "other"'s, and the code to do it: more than it saves, gzipped.)
    """
    return {
        key: words
        for key, words in forms.items()
        if key == "other" or key not in PLURAL_CATEGORIES or words != forms["other"]
    }


def script_words(lang: str) -> dict:
    """What widget.js embeds for one language (T): the words it shows, and no more.

    Each union is its sector (sign_link()'s: "public" when it has none) and either its own words,
    where the catalogue's `orgs` gives them, or its short name (`org`, left out when it is the slug
    in capitals, as most are), which the script puts into `members` ("{org} members"). The region
    phrases are not here: see script_places().
    """
    text = text_for(lang)
    catalogue = content_loader.load_yaml(CATALOGUE, language=lang)
    own_words = catalogue.get("orgs") or {}
    words = {key: text[key] for key in SCRIPT_KEYS}
    words |= {key: script_forms(text[key]) for key in PLURAL_KEYS}
    words["sectors"] = {slug: script_forms(forms) for slug, forms in text["sectors"].items()}
    words["members"] = script_forms(catalogue["org_members"])
    words["orgs"] = {}
    for union in content_loader.load_yaml("organisations", language=lang):
        slug, entry = union["slug"], {"sector": union.get("sector") or "public"}
        if slug in own_words:
            entry |= script_forms(own_words[slug])
        elif union["short_name"] != slug.upper():
            entry["org"] = union["short_name"]
        words["orgs"][slug] = entry
    return words


def script_places(lang: str) -> dict[str, str]:
    """What a script card for a region says after the people, by region slug: "yng Nghymru" in Welsh,
    the name in English ("in" is in in_area). Served apart from widget.js (/cy/widget/places.json),
    and fetched only by a page with a region card in a language other than the default (the default's
    cards use /api/v1/regions' names): in Welsh these 13 phrases would be a tenth of the script's 3 KB.
    """
    return text_for(lang)["places"]


def in_place(slug: str, lang: str) -> str:
    """ "in Wales", "yng Nghymru": a region, or "elsewhere", as the cards say it (in_place and places)."""
    text = text_for(lang)
    return fill(text["in_place"], area=text["places"][slug])
