"""`flask reminders send [--dry-run]`: one confirmation reminder per waiting sign-up (run from cron)."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app

from app.extensions import db


@click.group()
def reminders() -> None:
    """Confirmation reminders."""


@reminders.command("send")
@click.option("--dry-run", is_flag=True, help="Only say how many reminders would be queued.")
def reminders_send(dry_run: bool) -> None:
    """Queue one reminder for each sign-up pending longer than CONFIRM_REMINDER_HOURS (safe to re-run)."""
    from app.services.reminders import queue_reminders

    config = current_app.config
    hours = config["CONFIRM_REMINDER_HOURS"]
    link_days = min(config["CONFIRM_TOKEN_MAX_AGE_DAYS"], config["UNCONFIRMED_RETENTION_DAYS"])
    queued = queue_reminders(
        db.session,
        after=timedelta(hours=hours),
        link_max_age=timedelta(days=link_days),
        max_emails=config["MAIL_MAX_PER_SIGNATURE"],
        dry_run=dry_run,
    )
    verb = "Would queue" if dry_run else "Queued"
    click.echo(
        f"{verb} {queued} confirmation {'reminder' if queued == 1 else 'reminders'} (pending over {hours} hours)."
    )
