"""Flask commands: seed data, the mail worker. They call the same services as the web app."""

from __future__ import annotations

import logging
import time

import click
from flask import Flask, current_app

from app import content_loader as content
from app.extensions import db, keys

log = logging.getLogger(__name__)


def register(app: Flask) -> None:
    app.cli.add_command(seed)
    app.cli.add_command(mail)
    app.cli.add_command(signing)


@click.command()
@click.option("--demo", type=int, default=0, help="Also add this many confirmed demo signatures (if there are none).")
def seed(demo: int) -> None:
    """Load sectors, organisations and counter cells from app/content/ (safe to re-run)."""
    from app.services.seed import seed_demo_signatures, seed_reference_data

    seed_reference_data(db.session, content.sectors(), content.organisations())
    click.echo("Seeded sectors and organisations.")
    if demo:
        added = seed_demo_signatures(db.session, keys(), demo, content.pledge()["version"])
        click.echo(f"Added {added} demo signatures." if added else "Signatures exist; no demo data added.")


@click.group()
def mail() -> None:
    """The outgoing mail queue."""


@mail.command("worker")
@click.option("--interval", type=float, default=2.0, help="Seconds between polls of the queue.")
@click.option("--once", is_flag=True, help="Send what is due, then exit.")
def mail_worker(interval: float, once: bool) -> None:
    """Deliver queued mail, retrying with backoff while the server is unreachable."""
    from app.mailer import deliver_due, transport_from_config

    transport = transport_from_config(current_app.config)
    log.info("mail worker started (%s)", type(transport).__name__)
    while True:
        try:
            report = deliver_due(db.session, keys(), transport)
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


@click.group()
def signing() -> None:
    """Pause or resume signing site-wide (counts keep working)."""


@signing.command("pause")
def signing_pause() -> None:
    from app.services.settings import set_signing_paused

    set_signing_paused(db.session, True)
    click.echo("Signing is paused: forms show a notice and accept nothing.")


@signing.command("resume")
def signing_resume() -> None:
    from app.services.settings import set_signing_paused

    set_signing_paused(db.session, False)
    click.echo("Signing has resumed.")


@signing.command("status")
def signing_status() -> None:
    from app.services.settings import signing_paused

    click.echo("paused" if signing_paused(db.session) else "open")
