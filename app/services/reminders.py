"""Confirmation reminders: one more email, with the confirmation link, for a sign-up still waiting."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, insert, select, update
from sqlalchemy.orm import Session

from app.models import OutboxMessage, Signature, SignatureStatus, utcnow

log = logging.getLogger(__name__)

REMINDER_EMAIL = "reminder"
BATCH_SIZE = 500


def reminder_sent_before(moment) -> ColumnElement[bool]:
    """The signature has a reminder that went out before moment (e.g. Signature.confirmed_at)."""
    return exists().where(
        OutboxMessage.signature_id == Signature.id,
        OutboxMessage.kind == REMINDER_EMAIL,
        OutboxMessage.sent_at < moment,
    )


def _due(now: datetime, after: timedelta, link_max_age: timedelta, max_emails: int) -> list[ColumnElement[bool]]:
    """Pending, signed at least `after` ago but within the link's life, under the email cap, never reminded.

    Held, invalid and confirmed signatures are not pending; withdrawn ones no longer exist.
    """
    return [
        Signature.status == SignatureStatus.PENDING,
        Signature.created_at <= now - after,
        Signature.created_at > now - link_max_age,
        Signature.emails_queued < max_emails,
        ~exists().where(OutboxMessage.signature_id == Signature.id, OutboxMessage.kind == REMINDER_EMAIL),
    ]


def queue_reminders(
    session: Session,
    *,
    after: timedelta,
    link_max_age: timedelta,
    max_emails: int,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
) -> int:
    """Queue one reminder for each due pending signature; returns how many (or, dry_run, would be).

    Each batch is one transaction: lock candidate rows (SKIP LOCKED, so overlapping runs
    share the work), then one conditional UPDATE that bumps emails_queued only where no
    reminder exists yet, and the outbox rows for exactly the rows it changed. The UPDATE is
    a separate statement so that on PostgreSQL (READ COMMITTED) its NOT EXISTS sees every
    reminder committed before we took the locks; a single statement re-checks only the
    signature row after waiting, not the outbox, and could queue a second reminder.
    """
    now = now or utcnow()
    due = _due(now, after, link_max_age, max_emails)
    if dry_run:
        return session.execute(select(func.count()).select_from(Signature).where(*due)).scalar_one()
    queued = 0
    while True:
        candidates = (
            session.execute(
                select(Signature.id)
                .where(*due)
                .order_by(Signature.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        if not candidates:
            session.rollback()
            break
        claimed = (
            session.execute(
                update(Signature)
                .where(Signature.id.in_(candidates), and_(*due))
                .values(emails_queued=Signature.emails_queued + 1)
                .returning(Signature.id)
                .execution_options(synchronize_session=False)
            )
            .scalars()
            .all()
        )
        if claimed:
            session.execute(insert(OutboxMessage), [{"signature_id": i, "kind": REMINDER_EMAIL} for i in claimed])
        session.commit()
        queued += len(claimed)
        log.info("reminders queued in batch: %s of %s candidates", len(claimed), len(candidates))
        if len(candidates) < batch_size:
            break
    return queued
