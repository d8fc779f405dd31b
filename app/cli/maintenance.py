"""`flask seed` and `flask retention run`: reference data and the retention policy."""

from __future__ import annotations

import click
from flask import current_app

from app import content_loader as content
from app.extensions import db, keys


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
