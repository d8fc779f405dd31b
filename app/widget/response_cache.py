"""A per-process micro-cache in front of Flask for the counts API and the embed routes.

Thousands of cards, iframes and badges poll the same few addresses. Each process answers a
repeat of an address it served in the last WIDGET_CACHE_SECONDS (1 by default; 0 turns the cache
off, as the tests do) from memory, as a 304 when the client's ETag still matches, without routing,
templates or queries. Browsers and CDNs are already told to keep these responses for
COUNTS_MAX_AGE_SECONDS, so one second more changes nothing anyone can see.

Only complete 200 responses without Set-Cookie are kept, at most MAX_ENTRIES of them (least
recently used go first) and none larger than MAX_BODY_BYTES, so odd query strings cannot fill
the memory. The headers kept are the ones Flask sent, security headers included.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask
from werkzeug.http import parse_etags, unquote_etag

DEFAULT_SECONDS = 1.0
MAX_ENTRIES = 512
MAX_BODY_BYTES = 64 * 1024
PREFIXES = ("/api/v1/counts", "/api/v1/regions", "/widget.js", "/widget/", "/badge/", "/share/")
CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")
# A 304 keeps the headers a cache needs to refresh its copy and drops those describing a body.
BODY_HEADERS = frozenset({"content-type", "content-length", "content-encoding", "last-modified"})

StartResponse = Callable[..., object]


@dataclass(frozen=True)
class StoredResponse:
    body: bytes
    headers: list[tuple[str, str]]
    not_modified_headers: list[tuple[str, str]]
    etag: str | None
    stored_at: float


class ResponseCache:
    """Least-recently-used responses by key, each fresh for a given number of seconds; thread-safe."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple, StoredResponse] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, seconds: float) -> StoredResponse | None:
        with self._lock:
            stored = self._entries.get(key)
            if stored is None or time.monotonic() - stored.stored_at >= seconds:
                return None
            self._entries.move_to_end(key)
            return stored

    def put(self, key: tuple, stored: StoredResponse) -> None:
        with self._lock:
            self._entries[key] = stored
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)


@dataclass(frozen=True)
class Fetched:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


def _storable(fetched: Fetched) -> StoredResponse | None:
    names = {name.lower() for name, _ in fetched.headers}
    if not fetched.status.startswith("200") or "set-cookie" in names or len(fetched.body) > MAX_BODY_BYTES:
        return None
    etag = next((value for name, value in fetched.headers if name.lower() == "etag"), None)
    return StoredResponse(
        body=fetched.body,
        headers=fetched.headers,
        not_modified_headers=[(n, v) for n, v in fetched.headers if n.lower() not in BODY_HEADERS],
        etag=unquote_etag(etag)[0] if etag else None,
        stored_at=time.monotonic(),
    )


class EmbedResponseCache:
    """WSGI middleware: the micro-cache for GET and HEAD requests to the embed routes."""

    def __init__(self, app: Flask, wsgi_app: Callable) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.cache = ResponseCache()

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        seconds = self.app.config["WIDGET_CACHE_SECONDS"]
        method = environ.get("REQUEST_METHOD")
        if seconds <= 0 or method not in ("GET", "HEAD") or not environ.get("PATH_INFO", "").startswith(PREFIXES):
            return self.wsgi_app(environ, start_response)
        # SCRIPT_NAME holds the language's prefix (app/i18n.py moves /cy there), so /cy/widget/x and
        # /widget/x, which differ only by language, are two entries.
        key = (
            environ.get("wsgi.url_scheme"),
            environ.get("HTTP_HOST"),
            environ.get("SCRIPT_NAME", ""),
            environ["PATH_INFO"],
            environ.get("QUERY_STRING"),
        )
        stored = self.cache.get(key, seconds)
        if stored is None:
            fetched = self._fetch(environ)
            stored = _storable(fetched)
            if stored is None:  # an error, say: pass it on as it is
                start_response(fetched.status, fetched.headers)
                return [] if method == "HEAD" else [fetched.body]
            self.cache.put(key, stored)
        if stored.etag and parse_etags(environ.get("HTTP_IF_NONE_MATCH")).contains_weak(stored.etag):
            start_response("304 NOT MODIFIED", list(stored.not_modified_headers))
            return []
        start_response("200 OK", list(stored.headers))
        return [] if method == "HEAD" else [stored.body]

    def _fetch(self, environ: dict) -> Fetched:
        """Flask's whole response to this address, asked for unconditionally so that it can be kept."""
        plain = {name: value for name, value in environ.items() if name not in CONDITIONAL}
        plain["REQUEST_METHOD"] = "GET"
        captured: dict = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info=None) -> Callable:
            captured.update(status=status, headers=headers)
            return lambda data: None  # the legacy write() callable; Flask does not use it

        chunks = self.wsgi_app(plain, capture)
        try:
            body = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return Fetched(status=captured["status"], headers=captured["headers"], body=body)


def install(app: Flask) -> None:
    """Put the micro-cache in front of the app (inside ProxyFix, which create_app adds later)."""
    app.wsgi_app = EmbedResponseCache(app, app.wsgi_app)
