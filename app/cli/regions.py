"""`flask regions rebuild [--dry-run]`: recount the place counters after postcode_areas.yaml changes."""

from __future__ import annotations

import click

from app.extensions import db


@click.group()
def regions() -> None:
    """Counts by region and postcode area."""


@regions.command("rebuild")
@click.option("--dry-run", is_flag=True, help="Only say what would change.")
def regions_rebuild(dry_run: bool) -> None:
    """Recount every region and postcode-area counter from the confirmed signatures (safe while the site runs)."""
    from app.models import utcnow
    from app.services.place_counters import CannotRebuild, rebuild_place_counters

    try:
        rebuilt = rebuild_place_counters(db.session, utcnow(), dry_run=dry_run)
    except CannotRebuild as error:
        raise click.ClickException(str(error)) from None
    verb = "Would change" if dry_run else "Changed"
    click.echo(
        f"{verb} {rebuilt.total} place counters: {rebuilt.added} added, {rebuilt.changed} corrected, "
        f"{rebuilt.removed} emptied."
    )
    if rebuilt.mismatched_count_cells:
        click.echo(
            f"Warning: {len(rebuilt.mismatched_count_cells)} count cells differ from their confirmed signatures "
            f"(ids {', '.join(map(str, rebuilt.mismatched_count_cells))}); place counters follow the signatures.",
            err=True,
        )
