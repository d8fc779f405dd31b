"""Re-sealing every encrypted value under the first ENCRYPTION_KEY: the second half of a key rotation.

Rotation: put a new key first in ENCRYPTION_KEY (keeping the old ones after it), restart the
app, run `flask keys rotate`, then remove the old keys. New values are sealed with the first
key from the restart; this pass re-seals the old ones (and turns Fernet tokens into AES-GCM).
Each batch is its own transaction, and each value is replaced only if it is still the one read
(a confirmation that changed a name meanwhile wins), so it runs beside live traffic, can be
stopped at any time and run again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Table, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from app.models import Organiser, OutboxMessage, Signature
from app.services.crypto import InvalidToken, PersonalDataCipher

log = logging.getLogger(__name__)

# Every encrypted column there is: (table, its columns). A test checks no other column holds ciphertext.
ENCRYPTED: tuple[tuple[Table, tuple[str, ...]], ...] = (
    (Signature.__table__, ("email_encrypted", "name_encrypted")),
    (Organiser.__table__, ("totp_secret_encrypted",)),
    (OutboxMessage.__table__, ("recipient_encrypted",)),
)


@dataclass
class RotationReport:
    resealed: dict[str, int] = field(default_factory=dict)  # "table.column" -> values re-sealed
    current: int = 0  # values already sealed under the first key
    unreadable: int = 0  # values no configured key opens: left as they are

    @property
    def total_resealed(self) -> int:
        return sum(self.resealed.values())


def rotate_keys(
    session: Session, cipher: PersonalDataCipher, batch: int = 1000, progress: Callable[[int], None] | None = None
) -> RotationReport:
    """Re-seal every encrypted value not already sealed under the first key; one commit per batch.

    Idempotent. Values no key opens are counted in unreadable and left alone (the caller should
    say so: the key that sealed them is missing from ENCRYPTION_KEY).
    """
    report = RotationReport()
    for table, columns in ENCRYPTED:
        last_id = 0
        while True:
            rows = session.execute(
                select(table.c.id, *(table.c[name] for name in columns))
                .where(table.c.id > last_id, or_(*(table.c[name].is_not(None) for name in columns)))
                .order_by(table.c.id)
                .limit(batch)
            ).all()
            if not rows:
                break
            last_id = rows[-1].id
            for name in columns:
                changes = _reseal(cipher, rows, name, report)
                if changes:
                    column = table.c[name]
                    session.execute(
                        table.update()
                        .where(and_(table.c.id == bindparam("b_id"), column == bindparam("b_old")))
                        .values({name: bindparam("b_new")}),
                        changes,
                    )
                    report.resealed[f"{table.name}.{name}"] = report.resealed.get(f"{table.name}.{name}", 0) + len(
                        changes
                    )
            session.commit()
            if progress:
                progress(len(rows))
    log.info(
        "keys rotated: %s re-sealed, %s current, %s unreadable",
        report.total_resealed,
        report.current,
        report.unreadable,
    )
    return report


def _reseal(cipher: PersonalDataCipher, rows, name: str, report: RotationReport) -> list[dict]:
    changes = []
    for row in rows:
        old = row._mapping[name]
        if old is None:
            continue
        if cipher.is_current(old):
            report.current += 1
            continue
        try:
            changes.append({"b_id": row.id, "b_old": old, "b_new": cipher.reseal(old)})
        except InvalidToken:
            report.unreadable += 1
    return changes


def rows_to_rotate(session: Session) -> int:
    """How many rows the rotation will look at (for a progress bar)."""
    return sum(
        session.execute(
            select(func.count()).select_from(table).where(or_(*(table.c[name].is_not(None) for name in columns)))
        ).scalar_one()
        for table, columns in ENCRYPTED
    )
