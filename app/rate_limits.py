"""Rate limits: the limiter and its client key, silent limits on sign-ups, failure-only limits on sign-in."""

from __future__ import annotations

import ipaddress
import logging

from flask import current_app, request
from flask_limiter import Limiter
from limits import parse_many

log = logging.getLogger(__name__)


def client_key() -> str:
    """The client's address for rate limits: IPv4 as is (also when IPv4-mapped), IPv6 by its /64.

    request.remote_addr is the real client only behind TRUSTED_PROXIES (ProxyFix); a
    spoofed X-Forwarded-For is otherwise ignored.
    """
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6 and ip.ipv4_mapped:  # ::ffff:a.b.c.d is that IPv4 client, not a /64
        return str(ip.ipv4_mapped)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


# Bound in create_app() with the other extensions; app.extensions re-exports it.
limiter = Limiter(key_func=client_key)


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


def within_limit(config_name: str, *scope: str) -> bool:
    """True if one more failure would still be within every limit of the setting (counts nothing).

    Fails open like over_limit: an unreachable store must not lock every organiser out.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    try:
        return all(
            limiter.limiter.test(item, config_name, *scope) for item in parse_many(current_app.config[config_name])
        )
    except Exception as error:  # storage down: see docstring
        log.warning("rate limit storage unavailable (%s); not limiting", type(error).__name__)
        return True


def first_in_window(config_name: str, *scope: str) -> bool:
    """True the first time it is asked within the longest window of the setting: for alerts."""
    longest = max(parse_many(current_app.config[config_name]), key=lambda item: item.get_expiry())
    try:
        return limiter.limiter.hit(type(longest)(1, longest.multiples), f"{config_name}.alert", *scope)
    except Exception:  # storage down: alert every time rather than never
        return True
