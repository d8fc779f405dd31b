"""`flask organisers ...` and `flask audit`: accounts and the audit log."""

from __future__ import annotations

import click
from flask import current_app

from app.extensions import db, keys
from app.urls import absolute_url_for


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
    link = absolute_url_for("organiser.set_password", token=password_link_token(keys(), organiser))
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
