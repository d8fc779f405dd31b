"""Campaign copy from app/content/: YAML and Markdown files, read once and cached."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import markdown as markdown_lib
import yaml
from markupsafe import Markup

CONTENT_DIR = Path(__file__).resolve().parent / "content"


@cache
def load_yaml(name: str):
    return yaml.safe_load((CONTENT_DIR / f"{name}.yaml").read_text(encoding="utf-8"))


def render_markdown(text: str | None) -> Markup:
    """Markdown from our own content files (trusted, but raw HTML is still escaped)."""
    if not text:
        return Markup("")
    md = markdown_lib.Markdown(extensions=["tables"], output_format="html")
    # Without these two, Markdown passes raw HTML through untouched; now it comes out as text.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return Markup(md.convert(text))


@cache
def page(name: str) -> tuple[str, Markup]:
    """(title, body) of content/pages/<name>.md; its first line is '# Title'."""
    text = (CONTENT_DIR / "pages" / f"{name}.md").read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
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
