"""Absolute URLs for emails, embed codes, share links and the CLI: always from SITE_URL, never the Host header."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import current_app

from app.i18n import current_language, script_root_for


def absolute_url_for(endpoint: str, **values) -> str:
    """url_for(endpoint, **values) as an absolute URL under SITE_URL; works with or without a request.

    An `_anchor` value becomes the fragment, as with url_for. The link is in the language being
    rendered (a Welsh page or email links to /cy/...) unless `_language` names another; static
    files have one address in every language.
    """
    anchor = values.pop("_anchor", None)
    language = values.pop("_language", None) or current_language()
    site = urlsplit(current_app.config["SITE_URL"])
    prefix = "" if endpoint == "static" else script_root_for(language)
    adapter = current_app.url_map.bind(
        site.netloc, script_name=site.path.rstrip("/") + prefix or "/", url_scheme=site.scheme
    )
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{quote(anchor, safe='')}" if anchor else url
