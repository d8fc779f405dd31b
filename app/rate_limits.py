"""Rate limits: the limiter and its client key, silent limits on sign-ups, failure-only limits on sign-in."""

from __future__ import annotations

import ipaddress
import logging
import secrets
import time
from functools import cache

import redis
from flask import current_app, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many

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


class RedisWindows:
    """Moving-window limits on Redis, every limit of a setting in one round trip (one Lua script).

    Flask-Limiter's storage makes one round trip per limit, and a sign-up has two ("20 per
    minute; 300 per hour"): on the sign-up path that was a sixth of the app's CPU
    (bench/README.md). Each window is a sorted set of hit times; a hit is recorded in a window
    only while that window has room, as Flask-Limiter's moving window does.
    """

    HIT = """
    local now, member, exceeded = tonumber(ARGV[1]), ARGV[2], 0
    for i, key in ipairs(KEYS) do
        local amount, window = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
        redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
        if redis.call('ZCARD', key) < amount then
            redis.call('ZADD', key, now, member)
            redis.call('PEXPIRE', key, window)
        else
            exceeded = 1
        end
    end
    return exceeded
    """
    ROOM = """
    local now = tonumber(ARGV[1])
    for i, key in ipairs(KEYS) do
        local amount, window = tonumber(ARGV[2 * i]), tonumber(ARGV[1 + 2 * i])
        if redis.call('ZCOUNT', key, string.format('(%d', now - window), '+inf') >= amount then
            return 0
        end
    end
    return 1
    """

    def __init__(self, url: str) -> None:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        self._hit = client.register_script(self.HIT)
        self._room = client.register_script(self.ROOM)

    def hit(self, items: tuple[RateLimitItem, ...], *scope: str) -> bool:
        """Record one hit in every window that has room; True if any had none."""
        keys, args = self._arguments(items, scope)
        return bool(self._hit(keys=keys, args=[args[0], secrets.token_hex(8), *args[1:]]))

    def has_room(self, items: tuple[RateLimitItem, ...], *scope: str) -> bool:
        keys, args = self._arguments(items, scope)
        return bool(self._room(keys=keys, args=args))

    @staticmethod
    def _arguments(items: tuple[RateLimitItem, ...], scope: tuple[str, ...]) -> tuple[list[str], list[int]]:
        keys = [f"care-limit/{'/'.join(scope)}/{item.amount}/{item.get_expiry()}" for item in items]
        args = [int(time.time() * 1000)]
        for item in items:
            args += [item.amount, item.get_expiry() * 1000]
        return keys, args


@cache
def limits_of(setting: str) -> tuple[RateLimitItem, ...]:
    """A setting's limits ("20 per minute; 300 per hour"), parsed once per process."""
    return tuple(parse_many(setting))


def init_app(app) -> None:
    """Bind the limiter, and our one-round-trip windows when the limits live in Redis."""
    limiter.init_app(app)
    url = app.config["RATELIMIT_STORAGE_URI"]
    app.extensions["care_redis_windows"] = RedisWindows(url) if url.startswith(("redis://", "rediss://")) else None


def over_limit(config_name: str, *scope: str) -> bool:
    """Count one hit against every limit in the named setting; True if any is exceeded.

    Fails open (logs, returns False) if the limiter's storage is unreachable: losing a real
    signature is worse than letting a few extra sign-ups into review.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return False
    items = limits_of(current_app.config[config_name])
    windows = current_app.extensions["care_redis_windows"]
    try:
        if windows is not None:
            return windows.hit(items, config_name, *scope)
        exceeded = False
        for item in items:
            if not limiter.limiter.hit(item, config_name, *scope):
                exceeded = True
        return exceeded
    except Exception as error:  # storage down: see docstring
        log.warning("rate limit storage unavailable (%s); not limiting", type(error).__name__)
        return False


def signing_over_limit() -> bool:
    return over_limit("RATELIMIT_SIGN", client_key())


def within_limit(config_name: str, *scope: str) -> bool:
    """True if one more failure would still be within every limit of the setting (counts nothing).

    Fails open like over_limit: an unreachable store must not lock every organiser out.
    """
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    items = limits_of(current_app.config[config_name])
    windows = current_app.extensions["care_redis_windows"]
    try:
        if windows is not None:
            return windows.has_room(items, config_name, *scope)
        return all(limiter.limiter.test(item, config_name, *scope) for item in items)
    except Exception as error:  # storage down: see docstring
        log.warning("rate limit storage unavailable (%s); not limiting", type(error).__name__)
        return True


def first_in_window(config_name: str, *scope: str) -> bool:
    """True the first time it is asked within the longest window of the setting: for alerts."""
    longest = max(limits_of(current_app.config[config_name]), key=lambda item: item.get_expiry())
    try:
        return limiter.limiter.hit(type(longest)(1, longest.multiples), f"{config_name}.alert", *scope)
    except Exception:  # storage down: alert every time rather than never
        return True
