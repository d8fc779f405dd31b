"""`flask mail worker`: delivers the outbox."""

from __future__ import annotations

import logging
import time
from functools import partial

import click
from flask import current_app

from app.extensions import db, keys
from app.mail_render import build_message
from app.services.mail_delivery import RetryPolicy, deliver_due
from app.services.mail_transport import transport_from_config

log = logging.getLogger(__name__)


@click.group()
def mail() -> None:
    """The outgoing mail queue."""


@mail.command("worker")
@click.option("--interval", type=float, default=2.0, help="Seconds between polls of the queue.")
@click.option("--once", is_flag=True, help="Send what is due, then exit.")
def mail_worker(interval: float, once: bool) -> None:
    """Deliver queued mail, retrying with backoff while the server is unreachable."""
    transport = transport_from_config(current_app.config)
    retry = RetryPolicy.from_config(current_app.config)
    log.info("mail worker started (%s)", type(transport).__name__)
    while True:
        try:
            report = deliver_due(db.session, partial(build_message, keys=keys()), transport, retry)
            if report.sent or report.retried or report.failed:
                log.info("mail: sent=%s retried=%s failed=%s", report.sent, report.retried, report.failed)
        except Exception as error:  # a database outage must not kill the worker
            db.session.rollback()
            log.error("mail worker error: %s", type(error).__name__)
        finally:
            db.session.remove()
        if once:
            return
        time.sleep(interval)
