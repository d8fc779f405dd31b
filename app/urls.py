"""Absolute URLs for emails, embed codes, share links and the CLI: always from SITE_URL, never the Host header."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import current_app


def absolute_url_for(endpoint: str, **values) -> str:
    """url_for(endpoint, **values) as an absolute URL under SITE_URL; works with or without a request.

    An `_anchor` value becomes the fragment, as with url_for.
    """
    anchor = values.pop("_anchor", None)
    site = urlsplit(current_app.config["SITE_URL"])
    adapter = current_app.url_map.bind(site.netloc, script_name=site.path or "/", url_scheme=site.scheme)
    url = adapter.build(endpoint, values, force_external=True)
    return f"{url}#{quote(anchor, safe='')}" if anchor else url
