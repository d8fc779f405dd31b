"""Cache-Control for the public, shared responses: how long browsers and CDNs may keep each kind."""

from __future__ import annotations

from flask import current_app

# What changes only when we deploy (widget.js, oEmbed answers): an hour, then revalidate.
UNTIL_DEPLOY = "public, max-age=3600, stale-while-revalidate=86400, stale-if-error=604800"
# The OpenAPI document: an hour.
API_DOCUMENT = "public, max-age=3600"
COUNT_STALE_IF_ERROR_SECONDS = 86400


def live_count() -> str:
    """For anything showing the count: a short max-age, then stale while revalidating or on errors."""
    config = current_app.config
    return (
        f"public, max-age={config['COUNTS_MAX_AGE_SECONDS']}, "
        f"stale-while-revalidate={config['COUNTS_STALE_SECONDS']}, stale-if-error={COUNT_STALE_IF_ERROR_SECONDS}"
    )
