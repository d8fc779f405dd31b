"""The durable mail queue: claiming due messages and recording what happened to them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import OutboxMessage, utcnow


def claim_next_due(session: Session, now: datetime | None = None) -> OutboxMessage | None:
    """Lock and return the oldest message due for an attempt, or None.

    On PostgreSQL the row lock (SKIP LOCKED) lets several workers share the queue; the
    caller must finish with mark_sent, mark_retry or mark_failed, which commit.
    """
    now = now or utcnow()
    return session.execute(
        select(OutboxMessage)
        .where(
            OutboxMessage.sent_at.is_(None),
            OutboxMessage.failed_at.is_(None),
            OutboxMessage.next_attempt_at <= now,
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).scalar_one_or_none()


def mark_sent(session: Session, message: OutboxMessage) -> None:
    message.sent_at = utcnow()
    message.attempts += 1
    message.last_error = None
    session.commit()


def mark_retry(session: Session, message: OutboxMessage, error: str, base_seconds: int, max_seconds: int) -> datetime:
    """Schedule another attempt with exponential backoff; returns when it will be."""
    message.attempts += 1
    delay = min(base_seconds * 2 ** (message.attempts - 1), max_seconds)
    message.next_attempt_at = utcnow() + timedelta(seconds=delay)
    message.last_error = error[:200]
    session.commit()
    return message.next_attempt_at


def mark_failed(session: Session, message: OutboxMessage, error: str) -> None:
    """The server refused this message for good (e.g. no such mailbox); keep it for the record."""
    message.attempts += 1
    message.failed_at = utcnow()
    message.last_error = error[:200]
    session.commit()


def queue_depth(session: Session) -> int:
    return session.execute(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
    ).scalar_one()
