"""The keys services need, built once from configuration."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from app.services.crypto import PersonalDataCipher


@dataclass(frozen=True)
class Keys:
    cipher: PersonalDataCipher
    token_key: bytes

    @classmethod
    def from_config(cls, config: Mapping) -> Keys:
        missing = [n for n in ("SECRET_KEY", "ENCRYPTION_KEY", "BLIND_INDEX_KEY") if not config.get(n)]
        if missing:
            raise RuntimeError("Missing configuration: " + ", ".join(missing))
        return cls(
            cipher=PersonalDataCipher(config["ENCRYPTION_KEY"], config["BLIND_INDEX_KEY"]),
            token_key=hashlib.sha256(b"care-dont-share/tokens:" + config["SECRET_KEY"].encode()).digest(),
        )
