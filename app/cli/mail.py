"""`flask mail worker`: delivers the outbox."""

from __future__ import annotations

import logging
import signal
import threading
from functools import partial

import click
from flask import current_app

from app.extensions import db, keys
from app.mail_render import build_message
from app.services.mail_delivery import BulkPacer, RetryPolicy, deliver_due
from app.services.mail_transport import transport_from_config

log = logging.getLogger(__name__)


@click.group()
def mail() -> None:
    """The outgoing mail queue."""


@mail.command("worker")
@click.option("--interval", type=float, default=2.0, help="Seconds between polls of an empty queue.")
@click.option("--batch", type=click.IntRange(1, 1000), default=100, help="Messages claimed per transaction.")
@click.option("--once", is_flag=True, help="Send what is due, then exit.")
def mail_worker(interval: float, batch: int, once: bool) -> None:
    """Deliver queued mail, retrying with backoff while the server is unreachable.

    Run several on PostgreSQL to share the queue: each claims its own batches. Updates to
    signers go out after everything else, at most MAIL_UPDATES_PER_SECOND per worker.
    """
    config = current_app.config
    transport = transport_from_config(config)
    retry = RetryPolicy.from_config(config)
    pacer = BulkPacer(config["MAIL_UPDATES_PER_SECOND"])
    render = partial(build_message, keys=keys())
    stopping = threading.Event()
    # SIGTERM (systemd, docker, a deploy) ends the worker between batches, never inside one:
    # a batch sent but not yet recorded would be sent again by the next worker.
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    log.info("mail worker started (%s)", type(transport).__name__)
    try:
        while not stopping.is_set():
            wait = interval
            try:
                allowance = pacer.available()
                report = deliver_due(db.session, render, transport, retry, limit=batch, bulk_limit=allowance)
                pacer.spend(report.bulk_claimed)
                if report.sent or report.retried or report.failed or report.skipped:
                    log.info(
                        "mail: sent=%s retried=%s failed=%s skipped=%s",
                        report.sent,
                        report.retried,
                        report.failed,
                        report.skipped,
                    )
                if report.claimed == batch and not report.interrupted:
                    wait = 0  # a full batch: there is probably more
                elif report.bulk_claimed and report.bulk_claimed >= allowance:
                    wait = min(interval, pacer.seconds_until_next())  # updates held back by the pace
                elif report.claimed == 0:
                    transport.close()  # nothing to send: do not hold the server's connection
            except Exception as error:  # a database outage must not kill the worker
                db.session.rollback()
                log.error("mail worker error: %s", type(error).__name__)
            finally:
                db.session.remove()
            if once and wait:
                return
            if wait:
                stopping.wait(wait)
    finally:
        transport.close()
