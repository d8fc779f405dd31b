"""Campaign copy from app/content/: YAML and Markdown files per language, read once and cached.

<name>.yaml and pages/<name>.md are the default language (English). Another language's file sits
beside it as <name>.<code>.yaml or <name>.<code>.md. A language's YAML holds its words only: it
is laid over the English file key by key, list items paired by their `slug` (else by position),
so slugs, goals and other data live once, in the English file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import markdown as markdown_lib
import yaml
from flask import has_app_context
from markupsafe import Markup

CONTENT_DIR = Path(__file__).resolve().parent / "content"


def _language(language: str | None) -> str | None:
    """The language asked for, else the one being rendered; None for the default (English) files."""
    if language is None and has_app_context():
        from app.i18n import current_language, default_language

        language = current_language()
        return None if language == default_language() else language
    return None if language in (None, "en") else language


def _file(name: str, language: str | None, suffix: str) -> Path:
    return CONTENT_DIR / (f"{name}.{language}{suffix}" if language else f"{name}{suffix}")


@cache
def _read_yaml(name: str, language: str | None):
    path = _file(name, language, ".yaml")
    if language and not path.exists():
        return None
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def overlay(base, words):
    """`base` with the strings `words` gives for it: dicts by key, lists of dicts by slug (else by position)."""
    if words is None:
        return base
    if isinstance(base, dict) and isinstance(words, dict):
        # Keys only the language has stay: its plural categories ("two", "few"...) beside "one"/"other".
        return {key: overlay(value, words.get(key)) for key, value in base.items()} | {
            key: value for key, value in words.items() if key not in base
        }
    if isinstance(base, list) and isinstance(words, list):
        if base and all(isinstance(item, dict) and "slug" in item for item in base):
            by_slug = {item.get("slug"): item for item in words if isinstance(item, dict)}
            return [overlay(item, by_slug.get(item["slug"])) for item in base]
        return [overlay(item, words[i] if i < len(words) else None) for i, item in enumerate(base)]
    return words


@cache
def _localised_yaml(name: str, language: str | None):
    base = _read_yaml(name, None)
    return overlay(base, _read_yaml(name, language)) if language else base


def load_yaml(name: str, language: str | None = None):
    """content/<name>.yaml in `language` (default: the one being rendered), English where it has no words."""
    return _localised_yaml(name, _language(language))


def read_all(languages) -> None:
    """Read and cache every YAML file in every language now, not on the first request that needs
    each (a server calls this before it takes requests; see wsgi.py)."""
    for path in sorted(CONTENT_DIR.glob("*.yaml")):
        name = path.name.removesuffix(".yaml")
        if "." not in name:
            for language in languages:
                load_yaml(name, language)


def name_of(kind: str, item, language: str | None = None) -> str:
    """A sector's, union's, region's or postcode area's name in a language, from its content file (kind:
    "sectors", "organisations", "regions" or "areas"); `item` is a slug (an area's code) or anything
    with .slug (.code) and .name."""
    if isinstance(item, str):
        key = fallback = item
    elif kind == "areas":
        key = fallback = item.code
    else:
        key, fallback = item.slug, item.name
    return _names(kind, _language(language)).get(key) or fallback


@cache
def _names(kind: str, language: str | None) -> dict[str, str]:
    """slug (an area's code) -> name, for one kind of thing in one language: name_of looks up here."""
    if kind == "areas":  # postcode areas, by code ("CF"): a dict, not a list
        return {code: entry.get("name") for code, entry in _localised_yaml("postcode_areas", language)["areas"].items()}
    items = (
        _localised_yaml("postcode_areas", language)["regions"] if kind == "regions" else _localised_yaml(kind, language)
    )
    return {entry["slug"]: entry["name"] for entry in items}


def render_markdown(text: str | None) -> Markup:
    """Markdown from our own content files (trusted, but raw HTML is still escaped)."""
    if not text:
        return Markup("")
    md = markdown_lib.Markdown(extensions=["tables"], output_format="html")
    # Without these two, Markdown passes raw HTML through untouched; now it comes out as text.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return Markup(md.convert(text))


def page(name: str, language: str | None = None) -> tuple[str, Markup]:
    """(title, body) of content/pages/<name>.md in a language (default: the one being rendered).

    The file's first line is '# Title'."""
    return _page(name, _language(language))


@cache
def _page(name: str, language: str | None) -> tuple[str, Markup]:
    path = _file(f"pages/{name}", language, ".md")
    if language and not path.exists():
        path = _file(f"pages/{name}", None, ".md")
    first, _, rest = path.read_text(encoding="utf-8").partition("\n")
    return first.lstrip("# ").strip(), render_markdown(rest)


def pledge() -> dict:
    return load_yaml("pledge")


def sectors() -> list[dict]:
    return load_yaml("sectors")


def sector(slug: str) -> dict | None:
    return next((s for s in sectors() if s["slug"] == slug), None)


def organisations() -> list[dict]:
    return load_yaml("organisations")


def organisation(slug: str) -> dict | None:
    return next((o for o in organisations() if o["slug"] == slug), None)


def recommendations() -> dict:
    return load_yaml("recommendations")


def recommendation_area(slug: str) -> dict | None:
    return next((a for a in recommendations()["areas"] if a["slug"] == slug), None)
