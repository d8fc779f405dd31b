"""Encryption of personal data at rest and the keyed hash (blind index) used to find duplicates.

New values are sealed with AES-256-GCM: one version byte, a 4-byte key id, a 12-byte random
nonce, then the ciphertext and its 16-byte tag. Opening one costs about a microsecond, against
13 for Fernet (bench/README.md, "Export"), which set the speed of a million-row export. Values
written before are Fernet tokens (they begin with "gAAAAA", never with the version byte) and
still open. Each configured key serves both: the GCM key is derived from the Fernet key with
HKDF, so ENCRYPTION_KEY stays the one setting; the first key seals, every key opens, and
`flask keys rotate` re-seals old values under the first (app/services/key_rotation.py).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from base64 import urlsafe_b64decode

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

GCM_VERSION = b"\x02"
NONCE_BYTES = 12
KEY_ID_BYTES = 4
HEADER_BYTES = 1 + KEY_ID_BYTES + NONCE_BYTES


def _gcm_key(fernet_key: str) -> bytes:
    material = urlsafe_b64decode(fernet_key.encode())
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"care-dont-share/aes-256-gcm/v2").derive(
        material
    )


class PersonalDataCipher:
    """Seals names and emails with AES-GCM; opens those and older Fernet tokens; several keys allow rotation."""

    def __init__(self, encryption_keys: str, blind_index_key: str) -> None:
        keys = [k.strip() for k in encryption_keys.split(",") if k.strip()]
        if not keys:
            raise ValueError("ENCRYPTION_KEY is empty")
        self._fernet = MultiFernet([Fernet(k) for k in keys])
        sealers = []
        for key in keys:
            gcm_key = _gcm_key(key)
            key_id = hashlib.sha256(b"key-id:" + gcm_key).digest()[:KEY_ID_BYTES]
            sealers.append((key_id, AESGCM(gcm_key)))
        self._sealer = sealers[0]
        self._openers = dict(reversed(sealers))  # an id shared by two keys (1 in 4 billion): the first wins
        self._index_key = blind_index_key.encode()

    def encrypt(self, value: str) -> bytes:
        key_id, aead = self._sealer
        nonce = os.urandom(NONCE_BYTES)
        return GCM_VERSION + key_id + nonce + aead.encrypt(nonce, value.encode(), None)

    def decrypt(self, token: bytes) -> str:
        """Raises cryptography.fernet.InvalidToken if no configured key opens it."""
        token = bytes(token)
        if token[:1] != GCM_VERSION:
            return self._fernet.decrypt(token).decode()
        aead = self._openers.get(token[1 : HEADER_BYTES - NONCE_BYTES])
        if aead is None:
            raise InvalidToken
        try:
            return aead.decrypt(token[1 + KEY_ID_BYTES : HEADER_BYTES], token[HEADER_BYTES:], None).decode()
        except InvalidTag:
            raise InvalidToken from None

    def is_current(self, token: bytes) -> bool:
        """True if the value is sealed with AES-GCM under the first key (nothing for rotation to do)."""
        token = bytes(token)
        return token[:1] == GCM_VERSION and token[1 : HEADER_BYTES - NONCE_BYTES] == self._sealer[0]

    def reseal(self, token: bytes) -> bytes:
        """The value sealed afresh under the first key; raises InvalidToken if no key opens it."""
        return self.encrypt(self.decrypt(token))

    def domain_index(self, domain: str) -> bytes:
        """Keyed hash of an email domain, for finding sign-ups by domain without storing it."""
        return self.blind_index(f"domain:{domain.casefold()}")

    def work_mailbox_index(self, canonical_email: str) -> bytes:
        """Keyed hash of a canonical work mailbox: one work address verifies one signature.

        Prefixed, so it never equals the email_key of the same address signing the pledge.
        """
        return self.blind_index(f"work-mailbox:{canonical_email}")

    def blind_index(self, canonical_email: str) -> bytes:
        """A 32-byte HMAC-SHA256 of the canonical email: equal inputs match, the dump reveals nothing."""
        return hmac.new(self._index_key, canonical_email.encode(), hashlib.sha256).digest()


__all__ = ["InvalidToken", "PersonalDataCipher"]
