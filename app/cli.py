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
    app.cli.add_command(organisers_group)
    app.cli.add_command(audit_command)
    app.cli.add_command(retention)
    from app.export_cli import export

    app.cli.add_command(export)


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


@click.group("organisers")
def organisers_group() -> None:
    """Organiser accounts."""


@organisers_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "organiser"]), required=True)
@click.option("--org", "org_slug", help="The union an organiser works for (required for --role organiser).")
def organisers_create(email: str, role: str, org_slug: str | None) -> None:
    """Create an account and print a one-time link to set its password."""
    from app.services.organisers import AccountError, create_organiser, password_link_token

    try:
        organiser = create_organiser(db.session, email, role, org_slug)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    hours = current_app.config["PASSWORD_LINK_MAX_AGE_HOURS"]
    link = f"{current_app.config['SITE_URL']}/organiser/password/{password_link_token(keys(), organiser)}"
    click.echo(f"Created {organiser.role.value} account {organiser.id}.")
    click.echo(f"Send this one-time link to set the password (valid {hours} hours):\n{link}")


@click.command("audit")
@click.option("--action", help="Only this action, e.g. export or login.failed.")
@click.option("--actor", help="Only events by this account email (or cli, anonymous).")
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
def audit_command(action: str | None, actor: str | None, limit: int) -> None:
    """Print the audit log, newest first."""
    from app.services.audit import events

    for event in events(db.session, action=action, actor=actor, limit=limit):
        click.echo(f"{event.at.isoformat(timespec='seconds')}\t{event.actor}\t{event.action}\t{event.details}")


@click.group()
def retention() -> None:
    """The retention policy."""


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Only say what would be deleted or anonymised.")
def retention_run(dry_run: bool) -> None:
    """Delete stale unconfirmed sign-ups; after CAMPAIGN_END_DATE, anonymise everything (counts stay)."""
    from datetime import date

    from app.services.audit import CLI
    from app.services.retention import run_retention

    end = current_app.config["CAMPAIGN_END_DATE"]
    report = run_retention(
        db.session,
        CLI,
        unconfirmed_days=current_app.config["UNCONFIRMED_RETENTION_DAYS"],
        campaign_end=date.fromisoformat(end) if end else None,
        dry_run=dry_run,
    )
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(
        f"{verb} {report.unconfirmed_deleted} unconfirmed sign-ups older than "
        f"{current_app.config['UNCONFIRMED_RETENTION_DAYS']} days."
    )
    click.echo(
        f"{'Would anonymise' if dry_run else 'Anonymised'} {report.anonymised} signatures."
        if end
        else "No CAMPAIGN_END_DATE set: nothing anonymised."
    )
    click.echo("Withdrawn signatures are erased when they are withdrawn, so none are waiting.")
