"""The embeddable count's rules, free of Flask: what a card counts, its options, words, colours and size."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import cache

from babel import Locale
from flask_babel import lazy_gettext as _l

from app.services import disclosure
from app.services.card_layout import text_colour_on
from app.services.counts import Counts
from app.services.signing import SOURCE_PATTERN

SLUG_PATTERN = re.compile(r"^[a-z0-9-]{1,40}$")
ACCENT_PATTERN = re.compile(r"^#?([0-9A-Fa-f]{6})$")
THEMES = ("light", "dark")
DEFAULT_ACCENT = "5a2a82"  # the site's purple
DEFAULT_LANGUAGE = "en"
OPTION_NAMES = ("theme", "accent", "size", "lang", "source", "paper", "verified")
# Paper tallies: shown beside the online count ("apart", the default) or also added into the number.
PAPER_MODES = ("apart", "add")
# "including N verified ... workers" (signers who confirmed a work email address): off by default.
VERIFIED_MODES = ("hide", "show")

# CLDR's plural categories, in its order; each language uses some of them (Babel knows which).
PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")


class InvalidEmbed(ValueError):
    """A bad option or parameter; the message says what to change (shown with a 400)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Size:
    """One of the card's sizes, in CSS pixels (the card's CSS works in ems of font_px)."""

    name: str
    font_px: int
    width: int  # the card's max-width, 20em


SIZES = {
    "small": Size("small", 14, 280),
    "medium": Size("medium", 16, 320),
    "large": Size("large", 19, 380),
}
DEFAULT_SIZE = "medium"


@dataclass(frozen=True)
class Target:
    """What a card counts: everyone, one sector, one union, a union's members in one sector, or one
    region (alone: its figure is the disclosure rule's, from the counts by place)."""

    sector: str | None = None
    org: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class Options:
    """How a card looks and where its sign-ups are credited. None means the default."""

    theme: str = "light"
    accent: str | None = None  # six lower-case hex digits, no '#'
    size: str = DEFAULT_SIZE
    lang: str = DEFAULT_LANGUAGE
    source: str | None = None
    paper: str = "apart"
    verified: str = "hide"

    @property
    def add_paper(self) -> bool:
        return self.paper == "add"

    @property
    def show_verified(self) -> bool:
        return self.verified == "show"

    def query(self, names: Collection[str] = OPTION_NAMES) -> dict[str, str]:
        """The options that differ from the defaults, for a URL's query string."""
        defaults = Options()
        return {
            name: value
            for name in names
            if (value := getattr(self, name)) is not None and value != getattr(defaults, name)
        }

    @property
    def accent_colour(self) -> str:
        return f"#{self.accent or DEFAULT_ACCENT}"

    @property
    def text_on_accent(self) -> str:
        return text_colour_on(self.accent or DEFAULT_ACCENT)


def single_values(args: Mapping[str, list[str]], allowed: Collection[str]) -> dict[str, str]:
    """One value per query parameter, only from allowed; raises InvalidEmbed naming the problem."""
    values = {}
    for name, given in args.items():
        if name not in allowed:
            raise InvalidEmbed(
                _l("Unknown parameter %(name)s; use only %(allowed)s.", name=repr(name), allowed=", ".join(allowed))
            )
        if len(given) != 1:
            raise InvalidEmbed(_l("Give %(name)s once.", name=name), name)
        values[name] = given[0]
    return values


def _one_of(name: str, choices: Collection[str]) -> InvalidEmbed:
    return InvalidEmbed(_l("%(name)s must be one of %(choices)s.", name=name, choices=", ".join(choices)), name)


def parse_options(values: Mapping[str, str], languages: Collection[str], language: str = DEFAULT_LANGUAGE) -> Options:
    """Options from query values (already one per name); raises InvalidEmbed for a bad value.

    language is the one the card is in when the query has no lang: the page address's (/cy/...).
    """
    theme = values.get("theme") or "light"
    if theme not in THEMES:
        raise _one_of("theme", THEMES)
    size = values.get("size") or DEFAULT_SIZE
    if size not in SIZES:
        raise _one_of("size", SIZES)
    lang = values.get("lang") or language
    if lang not in languages:
        raise _one_of("lang", sorted(languages))
    accent = None
    if values.get("accent"):
        match = ACCENT_PATTERN.match(values["accent"])
        if not match:
            raise InvalidEmbed(_l("accent must be a colour as six hex digits, like 5a2a82."), "accent")
        accent = match.group(1).lower()
        accent = None if accent == DEFAULT_ACCENT else accent
    source = values.get("source") or None
    if source is not None and not SOURCE_PATTERN.match(source):
        raise InvalidEmbed(_l("source must be 1 to 64 letters, digits, dots, dashes or underscores."), "source")
    paper = values.get("paper") or "apart"
    if paper not in PAPER_MODES:
        raise _one_of("paper", PAPER_MODES)
    verified = values.get("verified") or "hide"
    if verified not in VERIFIED_MODES:
        raise _one_of("verified", VERIFIED_MODES)
    return Options(theme=theme, accent=accent, size=size, lang=lang, source=source, paper=paper, verified=verified)


def parse_slug(name: str, value: str | None) -> str | None:
    """A sector or union slug from a query value ('' means none); raises InvalidEmbed if malformed."""
    if not value:
        return None
    if not SLUG_PATTERN.match(value):
        raise InvalidEmbed(_l("%(name)s must be a slug like 'education' or 'neu'.", name=name), name)
    return value


TEXT_KEYS = (
    "locale",
    "thousands_separator",
    "campaign",
    "sign",
    "signed",
    "count_sentence",
    "goal",
    "goal_label",
    "embed_title",
    "total",
    "in_area",
    "in_place",
    "paper",
    "verified",
    "verified_people",
)


def resolve_text(
    catalogue: Mapping, sectors: list[dict], organisations: list[dict], place_names: Mapping[str, str]
) -> dict:
    """One language's words for the card, with every sector's, union's and place's phrase filled in.

    sectors, organisations and place_names (region slug, or "elsewhere", to its name) are the content
    files' in the same language; a sector the catalogue lacks falls back to its count label, a place
    to its name (tests check every sector is translated).
    """
    sector_words = catalogue.get("sectors", {})
    org_words = catalogue.get("orgs", {})
    place_words = catalogue.get("places") or {}
    return {
        **{key: catalogue[key] for key in TEXT_KEYS},
        "fewer": fill(catalogue["fewer"], n=str(disclosure.THRESHOLD)),
        "sectors": {
            s["slug"]: sector_words.get(s["slug"])
            or {"one": s["count_label"], "other": s["count_label"], "area": s["name"].lower()}
            for s in sectors
        },
        "orgs": {
            o["slug"]: {
                **(
                    org_words.get(o["slug"])
                    or {form: fill(words, org=o["short_name"]) for form, words in catalogue["org_members"].items()}
                ),
                "sector": o.get("sector"),
            }
            for o in organisations
        },
        "places": {slug: place_words.get(slug) or name for slug, name in place_names.items()},
    }


def fill(template: str, **values: str) -> str:
    """Replace {name} placeholders; unknown ones are left as they are (as widget.js does)."""
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), template)


@cache
def _plural_form(lang: str):
    return Locale.parse(lang).plural_form


def plural_category(lang: str, count: int) -> str:
    """CLDR's plural category of a count in a language (Babel's data): Welsh has all six."""
    return _plural_form(lang)(count)


def plural_categories(lang: str) -> tuple[str, ...]:
    """The plural categories a language uses, "other" always among them, in CLDR's order."""
    used = _plural_form(lang).tags | {"other"}
    return tuple(category for category in PLURAL_CATEGORIES if category in used)


def _form(forms: Mapping[str, str], category: str) -> str:
    return forms.get(category) or forms["other"]


def people(text: Mapping, target: Target, category: str) -> str:
    """Who is counted, e.g. "NEU members in education" or "people in Wales", in the given plural form."""
    if target.region:
        return fill(text["in_area"], people=_form(text["total"], category), area=text["places"][target.region])
    if target.org:
        phrase = _form(text["orgs"][target.org], category)
        if target.sector:
            phrase = fill(text["in_area"], people=phrase, area=text["sectors"][target.sector]["area"])
        return phrase
    if target.sector:
        return _form(text["sectors"][target.sector], category)
    return _form(text["total"], category)


def card_numbers(counts: Counts, target: Target) -> tuple[int, int | None]:
    """The count a card shows and its goal (sectors have goals; unions and mixes do not).

    counts must come from get_counts narrowed to the target, so its total is the target's count.
    """
    if target.sector and not target.org:
        sector = counts.sector(target.sector)
        return counts.total, sector.goal if sector else None
    return counts.total, None


def format_number(text: Mapping, number: int) -> str:
    return f"{number:,}".replace(",", text["thousands_separator"])


@dataclass(frozen=True)
class CardText:
    """Everything a card says for one count."""

    number: str
    who: str  # "NEU members have signed the pledge"
    who_forms: dict[str, str]  # who, per plural category, for the iframe's live updates
    sentence: str  # "1,234 NEU members have signed the pledge"
    title: str  # the same whatever the count: for iframe titles and badge descriptions
    goal: str | None
    percent: int | None
    paper_line: str | None = None  # "1,234 online and 56 on paper", when there are paper tallies
    verified_line: str | None = None  # "including 56 verified health and care workers", when asked for and any
    verified_forms: dict[str, str] | None = None  # that line per plural category of {v}, for live updates


def verified_forms(text: Mapping, lang: str, target: Target) -> dict[str, str]:
    """The verified line, "including {v} verified <sector's workers>", per plural category ({v} left to fill).

    Verification proves work in a sector, so a card for a union alone, or for everyone, says
    "public-service workers" rather than "NEU members".
    """
    forms = text["sectors"][target.sector] if target.sector else text["verified_people"]
    return {form: fill(text["verified"], people=_form(forms, form)) for form in plural_categories(lang)}


def describe(
    text: Mapping,
    lang: str,
    target: Target,
    count: int,
    goal: int | None,
    paper: int = 0,
    add_paper: bool = False,
    verified: int | None = None,
) -> CardText:
    """The card's words for count (and the goal, if the target has one).

    count is confirmed online signatures and paper the target's paper tallies: the card says
    both apart whenever there is paper, and its big number adds them only with add_paper.
    verified is how many of count verified with a work address, when the card is to say so
    (None: it is not); the line shows only when there are some.
    """
    online = count
    count = count + paper if add_paper else count
    category = plural_category(lang, count)
    who_forms = {
        form: fill(_form(text["signed"], form), people=people(text, target, form)) for form in plural_categories(lang)
    }
    who = _form(who_forms, category)
    number = format_number(text, count)
    percent = min(100, math.floor(100 * count / goal)) if goal else None
    return CardText(
        number=number,
        who=who,
        who_forms=who_forms,
        sentence=fill(text["count_sentence"], number=number, who=who),
        title=fill(text["embed_title"], people=people(text, target, "other")),
        goal=fill(text["goal"], percent=str(percent), goal=format_number(text, goal)) if goal else None,
        percent=percent,
        paper_line=fill(text["paper"], n=format_number(text, online), p=format_number(text, paper)) if paper else None,
        **_verified(text, lang, target, verified),
    )


def _verified(text: Mapping, lang: str, target: Target, verified: int | None) -> dict:
    if verified is None:
        return {}
    forms = verified_forms(text, lang, target)
    line = fill(_form(forms, plural_category(lang, verified)), v=format_number(text, verified)) if verified else None
    return {"verified_line": line, "verified_forms": forms}


@dataclass(frozen=True)
class SignLink:
    """Where the card's button goes: a sector's form (with its query), or None for the home page's list."""

    sector: str | None
    query: dict[str, str]


def sign_link(text: Mapping, target: Target, source: str | None) -> SignLink:
    """The sector's form, crediting the union and the source.

    A union without a sector goes to its own sector's form (as its landing page does); a card
    for everyone goes to the home page's list of sectors.
    """
    if not (target.sector or target.org):
        return SignLink(None, {})
    sector = target.sector or text["orgs"][target.org]["sector"] or "public"
    return SignLink(sector, {name: value for name, value in (("org", target.org), ("source", source)) if value})
