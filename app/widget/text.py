"""The widget's words per language: app/content/widget_text.yaml with every sector and union filled in."""

from __future__ import annotations

from functools import cache

from app import content_loader
from app.services.embed import resolve_text

CATALOGUE = "widget_text"


def languages() -> dict[str, str]:
    """Language code to its name, in catalogue order."""
    return {code: words["name"] for code, words in content_loader.load_yaml(CATALOGUE).items()}


@cache
def text_for(lang: str) -> dict:
    """The resolved words for one language (KeyError if the catalogue has no such language)."""
    return resolve_text(
        content_loader.load_yaml(CATALOGUE)[lang], content_loader.sectors(), content_loader.organisations()
    )
