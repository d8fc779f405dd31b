"""Languages: the URL prefix that picks one (/cy/...), Flask-Babel's locale, and links between a page's languages.

English lives at the site's own URLs; every other language in LANGUAGES mirrors them under
/<code>/. A WSGI middleware moves that prefix from PATH_INFO to SCRIPT_NAME, so the routes are
declared once and url_for builds /cy/ links on Welsh pages by itself. The language is in the
URL, never in a cookie or Accept-Language, so cached responses need not vary by either.
Adding a language is configuration and files, not code: its code in LANGUAGES, a catalogue
under app/translations/<code>/ (`make messages`), and <name>.<code>.yaml/.md beside the content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from functools import partial
from pathlib import Path

from babel import Locale
from flask import Flask, current_app, has_request_context, request
from flask_babel import Babel, format_date, format_datetime, get_locale

from app import content_loader

# WSGI environ keys the middleware sets for the app.
LANGUAGE_KEY = "care.language"
ROOT_SCRIPT_KEY = "care.root_script_name"


class LanguagePrefix:
    """WSGI middleware: /<code>/rest is the page /rest in language <code> (not for the default language)."""

    def __init__(self, wsgi_app: Callable, languages: Iterable[str], default: str) -> None:
        self.wsgi_app = wsgi_app
        self.codes = frozenset(languages) - {default}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        code, _, rest = path[1:].partition("/")
        root = environ.get("SCRIPT_NAME", "")
        environ[ROOT_SCRIPT_KEY] = root
        if code in self.codes:
            environ[LANGUAGE_KEY] = code
            environ["SCRIPT_NAME"] = f"{root}/{code}"
            environ["PATH_INFO"] = f"/{rest}"
        return self.wsgi_app(environ, start_response)


def languages() -> tuple[str, ...]:
    """The site's language codes, the default first."""
    return current_app.config["LANGUAGES"]


def default_language() -> str:
    return languages()[0]


def current_language() -> str:
    """The language being rendered: the URL's, or one forced with flask_babel.force_locale (emails)."""
    return str(get_locale() or default_language())


def _select_locale() -> str:
    if has_request_context():
        return request.environ.get(LANGUAGE_KEY) or default_language()
    return default_language()


def language_name(code: str) -> str:
    """A language's name in that language: "English", "Cymraeg"."""
    return Locale.parse(code).get_display_name(code).capitalize()


def html_lang(code: str | None = None) -> str:
    """The lang attribute: en-GB for English (British spelling), otherwise the bare code."""
    code = code or current_language()
    return "en-GB" if code == "en" else code


def script_root_for(code: str) -> str:
    """The path prefix of a language under the site's own path ("" or "/cy")."""
    return "" if code == default_language() else f"/{code}"


def alternates() -> list[dict]:
    """This page in every language: code, name, lang attribute, path (for the switch), absolute url
    (for hreflang, under SITE_URL), and whether it is the one being shown."""
    here = current_language()
    root = request.environ.get(ROOT_SCRIPT_KEY, "")
    query = request.query_string.decode("latin-1")
    rest = request.path + (f"?{query}" if query else "")
    site = current_app.config["SITE_URL"]
    return [
        {
            "code": code,
            "name": language_name(code),
            "lang": html_lang(code),
            "path": f"{root}{script_root_for(code)}{rest}",
            "url": f"{site}{script_root_for(code)}{rest}",
            "current": code == here,
        }
        for code in languages()
    ]


def _date(value: date | datetime | None, format: str = "d MMMM y") -> str:
    return format_date(value, format) if value else ""


def _datetime(value: datetime | None, format: str = "d MMMM y, HH:mm") -> str:
    return format_datetime(value, format) if value else ""


def init_app(app: Flask) -> None:
    """Flask-Babel with the URL's language; the template helpers; the prefix middleware.

    Refuses to start if a language in LANGUAGES has no compiled catalogue (it would show English)."""
    missing = [
        code
        for code in app.config["LANGUAGES"][1:]
        if not (Path(app.root_path) / "translations" / code / "LC_MESSAGES" / "messages.mo").exists()
    ]
    if missing:
        raise RuntimeError(
            f"LANGUAGES lists {', '.join(missing)} but app/translations has no compiled catalogue for it: "
            "run `make install` (pybabel compile)"
        )
    Babel(app, locale_selector=_select_locale, default_translation_directories="translations")
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.add_template_global(current_language)
    app.add_template_global(alternates)
    app.add_template_global(html_lang)
    app.add_template_filter(_date, "date")
    for kind in ("sectors", "organisations", "regions", "areas"):  # {{ sector|sector_name }} and so on
        app.add_template_filter(partial(content_loader.name_of, kind), f"{kind[:-1]}_name")
    app.add_template_filter(_datetime, "datetime")
    languages_ = app.config["LANGUAGES"]
    app.wsgi_app = LanguagePrefix(app.wsgi_app, languages_, languages_[0])
