"""The mail worker's loop: claim a batch of due messages, render and send each, record the outcomes; free of Flask."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import MailPriority, OutboxMessage
from app.services import outbox
from app.services.mail_transport import PermanentFailure, TemporaryFailure, Transport
from app.services.mime import OutgoingMail

log = logging.getLogger(__name__)

Render = Callable[[OutboxMessage], OutgoingMail]


class SkipMessage(Exception):
    """Raised by a renderer: this message must not go (e.g. its recipient no longer consents)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: base_seconds after the first failure, doubling, never more than max_seconds."""

    base_seconds: int
    max_seconds: int

    @classmethod
    def from_config(cls, config: Mapping) -> RetryPolicy:
        return cls(base_seconds=config["MAIL_RETRY_BASE_SECONDS"], max_seconds=config["MAIL_RETRY_MAX_SECONDS"])


@dataclass
class DeliveryReport:
    claimed: int = 0
    bulk_claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    # A temporary failure ended the batch early: the server is probably down.
    interrupted: bool = False


class BulkPacer:
    """A token bucket for updates to signers: rate per second in this process, bursts of at most one second's worth."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.clock = clock
        self.tokens = float(rate)
        self.last = clock()

    def available(self) -> int:
        now = self.clock()
        self.tokens = min(float(self.rate), self.tokens + (now - self.last) * self.rate)
        self.last = now
        return int(self.tokens)

    def spend(self, count: int) -> None:
        self.tokens -= count

    def seconds_until_next(self) -> float:
        return max(0.0, (1 - self.tokens) / self.rate) if self.rate else 1.0


def deliver_due(
    session: Session,
    render: Render,
    transport: Transport,
    retry: RetryPolicy,
    limit: int = 100,
    bulk_limit: int | None = None,
) -> DeliveryReport:
    """Claim up to limit due messages (at most bulk_limit updates to signers), send them, record how each went.

    One transaction per batch: the claim's row locks keep other workers off these messages
    while they are sent, and the outcomes are recorded and committed together. A message that
    cannot be rendered is kept and retried later; one its renderer skips is recorded as
    skipped. A temporary failure reschedules that message with backoff and ends the batch
    (the server is probably down; the rest stay due, untouched). A permanent refusal is kept
    as failed. Nothing is dropped silently.
    """
    report = DeliveryReport()
    messages = outbox.claim_due(session, limit, bulk_limit)
    if not messages:
        session.rollback()
        return report
    report.claimed = len(messages)
    report.bulk_claimed = sum(1 for m in messages if m.priority >= MailPriority.BULK)
    sent: list[OutboxMessage] = []
    retries: list[tuple[OutboxMessage, str]] = []
    failed: list[tuple[OutboxMessage, str]] = []
    skipped: list[tuple[OutboxMessage, str]] = []
    for message in messages:
        try:
            email = render(message)
        except SkipMessage as reason:
            skipped.append((message, str(reason)))
            continue
        except Exception as error:  # e.g. a key that no longer decrypts: keep it, retry later
            retries.append((message, f"render: {type(error).__name__}"))
            log.error("mail id=%s could not be rendered: %s", message.id, type(error).__name__)
            continue
        try:
            transport.send(email)
        except PermanentFailure as error:
            failed.append((message, str(error)))
            log.warning("mail id=%s refused permanently: %s", message.id, error)
        except TemporaryFailure as error:
            retries.append((message, str(error)))
            log.warning("mail id=%s deferred (%s)", message.id, error)
            report.interrupted = True
            break
        else:
            sent.append(message)
    outbox.record_outcomes(
        session,
        sent=sent,
        retry=retries,
        failed=failed,
        skipped=skipped,
        base_seconds=retry.base_seconds,
        max_seconds=retry.max_seconds,
    )
    report.sent, report.retried, report.failed, report.skipped = len(sent), len(retries), len(failed), len(skipped)
    return report
