"""Rate limits that must not announce themselves: sign-ups over the limit are held, not refused."""

from __future__ import annotations

import logging

from flask import current_app
from limits import parse_many

from app.extensions import client_key, limiter

log = logging.getLogger(__name__)


def over_limit(config_name: str, *scope: str) -> bool:
    """Count one hit against every limit in the named setting; True if any is exceeded.

    Fails open (logs, returns False) if the limiter's storage is unreachable: losing a real
    signature is worse than letting a few extra sign-ups into review.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return False
    exceeded = False
    try:
        for item in parse_many(current_app.config[config_name]):
            if not limiter.limiter.hit(item, config_name, *scope):
                exceeded = True
    except Exception as error:  # storage down: see docstring
        log.warning("rate limit storage unavailable (%s); not limiting", type(error).__name__)
        return False
    return exceeded


def signing_over_limit() -> bool:
    return over_limit("RATELIMIT_SIGN", client_key())
