"""The mail worker's loop: claim each due message, render it, send it, retry with backoff; free of Flask."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage

from sqlalchemy.orm import Session

from app.models import OutboxMessage
from app.services import outbox
from app.services.mail_transport import PermanentFailure, TemporaryFailure, Transport

log = logging.getLogger(__name__)

Render = Callable[[OutboxMessage], EmailMessage]


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
    sent: int = 0
    retried: int = 0
    failed: int = 0


def deliver_due(
    session: Session, render: Render, transport: Transport, retry: RetryPolicy, limit: int = 100
) -> DeliveryReport:
    """Send up to limit due messages one at a time, each in its own transaction (outbox commits).

    A message that cannot be rendered is kept and retried later. A temporary failure
    reschedules the message with backoff and ends the run (the server is probably down;
    no point trying the rest now). Nothing is ever dropped silently.
    """
    report = DeliveryReport()
    for _ in range(limit):
        message = outbox.claim_next_due(session)
        if message is None:
            break
        try:
            email = render(message)
        except Exception as error:  # e.g. a key that no longer decrypts: keep it, retry later
            outbox.mark_retry(
                session, message, f"render: {type(error).__name__}", retry.base_seconds, retry.max_seconds
            )
            log.error("mail id=%s could not be rendered: %s", message.id, type(error).__name__)
            report.retried += 1
            continue
        try:
            transport.send(email)
        except PermanentFailure as error:
            outbox.mark_failed(session, message, str(error))
            log.warning("mail id=%s refused permanently: %s", message.id, error)
            report.failed += 1
        except TemporaryFailure as error:
            when = outbox.mark_retry(session, message, str(error), retry.base_seconds, retry.max_seconds)
            log.warning("mail id=%s deferred (%s); next attempt %s", message.id, error, when.isoformat())
            report.retried += 1
            break
        else:
            outbox.mark_sent(session, message)
            report.sent += 1
    return report
