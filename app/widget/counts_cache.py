"""Counts for the widget routes, kept per process for a second: a surge of polls then costs no queries.

The counts API and the pages already tell caches to keep a count for 10 seconds, so a second more
changes nothing anyone can see, while thousands of iframes and badges polling at once read the
database once a second per process instead of once a request. Set WIDGET_COUNTS_CACHE_SECONDS to 0
to turn it off (the tests do).
"""

from __future__ import annotations

import time

from flask import current_app

from app.extensions import db
from app.services.counts import Counts, get_counts
from app.services.embed import Target

DEFAULT_SECONDS = 1.0
EXTENSION = "care_widget_counts"


def counts_for(target: Target) -> Counts:
    """get_counts for the target, at most WIDGET_COUNTS_CACHE_SECONDS old; raises UnknownFilter."""
    seconds = current_app.config.get("WIDGET_COUNTS_CACHE_SECONDS", DEFAULT_SECONDS)
    entries: dict[Target, tuple[float, Counts]] = current_app.extensions.setdefault(EXTENSION, {})
    now = time.monotonic()
    cached = entries.get(target)
    if cached and now - cached[0] < seconds:
        return cached[1]
    counts = get_counts(db.session, sector=target.sector, org=target.org)
    # Only real sectors and unions get here (get_counts raised otherwise), so the dict stays small.
    entries[target] = (now, counts)
    return counts
