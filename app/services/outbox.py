"""The durable mail queue: claiming due messages in batches and recording what happened to them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from app.models import CampaignUpdate, MailPriority, OutboxMessage, Signature, UpdateStatus, utcnow

# last_error of a message that was deliberately not sent (its recipient no longer wants it,
# or its mailing was cancelled): recorded as done, never retried, and never counted as failed.
SKIPPED = "skipped: "


def _due(now: datetime):
    return (
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.failed_at.is_(None),
        OutboxMessage.next_attempt_at <= now,
    )


def _claim(session: Session, query, limit: int) -> list[OutboxMessage]:
    """Lock up to limit rows in claim order; on PostgreSQL rows another worker holds are skipped."""
    query = (
        query.order_by(OutboxMessage.priority, OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(of=OutboxMessage, skip_locked=True)
        # Load in bulk what rendering reads, instead of one query per message.
        .options(
            selectinload(OutboxMessage.signature).selectinload(Signature.sector),
            selectinload(OutboxMessage.organiser),
            selectinload(OutboxMessage.campaign_update),
        )
    )
    return list(session.execute(query).scalars())


def claim_due(
    session: Session, limit: int, bulk_limit: int | None = None, now: datetime | None = None
) -> list[OutboxMessage]:
    """Lock and return up to limit messages due for an attempt, transactional mail first.

    Updates to signers (MailPriority.BULK) fill what is left of the batch, at most bulk_limit
    of them (None: no ceiling), and only those of a mailing that is sending (not paused or
    cancelled). The row locks (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has none and runs
    one worker) keep every other worker off these messages until the caller commits with
    record_outcomes. Returns [] with the transaction still open when nothing is due.
    """
    now = now or utcnow()
    claimed = _claim(
        session,
        select(OutboxMessage).where(*_due(now), OutboxMessage.priority < MailPriority.BULK),
        limit,
    )
    room = limit - len(claimed)
    if bulk_limit is not None:
        room = min(room, bulk_limit)
    if room > 0:
        claimed += _claim(
            session,
            select(OutboxMessage)
            .join(CampaignUpdate, OutboxMessage.update_id == CampaignUpdate.id)
            .where(
                *_due(now),
                OutboxMessage.priority >= MailPriority.BULK,
                CampaignUpdate.status == UpdateStatus.SENDING,
            ),
            room,
        )
    return claimed


def record_outcomes(
    session: Session,
    *,
    sent: Iterable[OutboxMessage] = (),
    retry: Iterable[tuple[OutboxMessage, str]] = (),
    failed: Iterable[tuple[OutboxMessage, str]] = (),
    skipped: Iterable[tuple[OutboxMessage, str]] = (),
    base_seconds: int = 30,
    max_seconds: int = 3600,
) -> None:
    """Record a batch's outcomes and commit, which releases the claim's row locks.

    The sent messages are marked in one statement; retries get exponential backoff
    (base_seconds doubling to max_seconds); failed and skipped ones are kept for the record.
    A message done with (sent, failed or skipped) loses the work address it carried (issue 12).
    """
    now = utcnow()
    sent_ids = [message.id for message in sent]
    if sent_ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(sent_ids))
            .values(sent_at=now, attempts=OutboxMessage.attempts + 1, last_error=None, recipient_encrypted=None)
            .execution_options(synchronize_session=False)
        )
    for message, error in retry:
        message.attempts += 1
        delay = min(base_seconds * 2 ** (message.attempts - 1), max_seconds)
        message.next_attempt_at = now + timedelta(seconds=delay)
        message.last_error = error[:200]
    for message, error in failed:
        message.attempts += 1
        message.failed_at = now
        message.last_error = error[:200]
        message.recipient_encrypted = None
    for message, reason in skipped:
        message.failed_at = now
        message.last_error = (SKIPPED + reason)[:200]
        message.recipient_encrypted = None
    session.commit()


def mark_sent(session: Session, message: OutboxMessage) -> None:
    record_outcomes(session, sent=[message])


def mark_retry(session: Session, message: OutboxMessage, error: str, base_seconds: int, max_seconds: int) -> datetime:
    """Schedule another attempt with exponential backoff; returns when it will be."""
    record_outcomes(session, retry=[(message, error)], base_seconds=base_seconds, max_seconds=max_seconds)
    return message.next_attempt_at


def mark_failed(session: Session, message: OutboxMessage, error: str) -> None:
    """The server refused this message for good (e.g. no such mailbox); keep it for the record."""
    record_outcomes(session, failed=[(message, error)])


def queue_depth(session: Session) -> int:
    return session.execute(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None))
    ).scalar_one()
