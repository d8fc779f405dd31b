"""Unguessable links for confirming and managing a signature.

A token is "<id>.<issued>.<mac>", the MAC an HMAC-SHA256 over the purpose, id, issue time
and the signature's random nonce. Forging one needs both the server key and the row;
erasing the row, or changing its nonce, revokes every link at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass

TOKEN_SHAPE = re.compile(r"([0-9a-f]{1,12})\.([0-9a-f]{1,12})\.([A-Za-z0-9_-]{43})")
CONFIRM = "confirm"
MANAGE = "manage"


class BadToken(Exception):
    """The link is malformed, forged, revoked or expired."""


@dataclass(frozen=True)
class ParsedToken:
    signature_id: int
    issued_at: int
    mac: bytes


def _mac(key: bytes, purpose: str, signature_id: int, issued_at: int, nonce: bytes) -> bytes:
    message = f"{purpose}|{signature_id}|{issued_at}|".encode() + bytes(nonce)
    return hmac.new(key, message, hashlib.sha256).digest()


def make_token(key: bytes, purpose: str, signature_id: int, nonce: bytes, now: float | None = None) -> str:
    issued_at = int(now if now is not None else time.time())
    mac = _mac(key, purpose, signature_id, issued_at, nonce)
    encoded = base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    return f"{signature_id:x}.{issued_at:x}.{encoded}"


def parse_token(token: str) -> ParsedToken:
    """Splits a token without trusting it; raises BadToken if it is not of the right shape."""
    match = TOKEN_SHAPE.fullmatch(token)
    if not match:
        raise BadToken("malformed")
    id_part, issued_part, mac_part = match.groups()
    return ParsedToken(int(id_part, 16), int(issued_part, 16), base64.urlsafe_b64decode(mac_part + "="))


def verify_token(
    key: bytes,
    purpose: str,
    parsed: ParsedToken,
    nonce: bytes,
    max_age_seconds: int | None,
    now: float | None = None,
) -> None:
    """Raises BadToken unless the MAC matches this row and, given a max age, it has not expired."""
    expected = _mac(key, purpose, parsed.signature_id, parsed.issued_at, nonce)
    if not hmac.compare_digest(expected, parsed.mac):
        raise BadToken("forged or revoked")
    if max_age_seconds is not None:
        age = (now if now is not None else time.time()) - parsed.issued_at
        if age > max_age_seconds:
            raise BadToken("expired")
