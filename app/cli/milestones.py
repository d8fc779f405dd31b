"""`flask milestones record` (run from cron) and `flask milestones list`: the steps the counts have passed."""

from __future__ import annotations

import click

from app.extensions import db


@click.group()
def milestones() -> None:
    """Milestones: the steps of the goals that the total and each sector have reached."""


@milestones.command("record")
def milestones_record() -> None:
    """Note the moment of every step reached since the last run (safe to re-run; run it every minute)."""
    from app.models import utcnow
    from app.services.counts import get_counts
    from app.services.milestones import record_milestones

    recorded = record_milestones(db.session, get_counts(db.session), utcnow())
    for milestone in recorded:
        click.echo(f"Reached: {milestone.scope} {milestone.step:,}")
    click.echo(f"Recorded {len(recorded)} new {'milestone' if len(recorded) == 1 else 'milestones'}.")


@milestones.command("list")
def milestones_list() -> None:
    """Every milestone recorded, latest first."""
    from app.services.milestones import milestones as recorded

    for milestone in recorded(db.session):
        click.echo(f"{milestone.reached_at.isoformat(timespec='seconds')}  {milestone.scope}  {milestone.step:,}")
