"""Encryption of personal data at rest and the keyed hash (blind index) used to find duplicates."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class PersonalDataCipher:
    """Encrypts names and emails with Fernet; several keys allow rotation (first one encrypts)."""

    def __init__(self, encryption_keys: str, blind_index_key: str) -> None:
        keys = [k.strip() for k in encryption_keys.split(",") if k.strip()]
        if not keys:
            raise ValueError("ENCRYPTION_KEY is empty")
        self._fernet = MultiFernet([Fernet(k) for k in keys])
        self._index_key = blind_index_key.encode()

    def encrypt(self, value: str) -> bytes:
        return self._fernet.encrypt(value.encode())

    def decrypt(self, token: bytes) -> str:
        """Raises cryptography.fernet.InvalidToken if no configured key opens it."""
        return self._fernet.decrypt(bytes(token)).decode()

    def domain_index(self, domain: str) -> bytes:
        """Keyed hash of an email domain, for finding sign-ups by domain without storing it."""
        return self.blind_index(f"domain:{domain.casefold()}")

    def blind_index(self, canonical_email: str) -> bytes:
        """A 32-byte HMAC-SHA256 of the canonical email: equal inputs match, the dump reveals nothing."""
        return hmac.new(self._index_key, canonical_email.encode(), hashlib.sha256).digest()


__all__ = ["InvalidToken", "PersonalDataCipher"]
