"""`flask organisers ...` and `flask audit`: accounts and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

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


@organisers_group.command("list")
def organisers_list() -> None:
    """Print every account: id, email, role, union, two-factor, last sign-in, disabled."""
    from app.services.organisers import list_organisers

    click.echo("id\temail\trole\tunion\t2fa\tlast_sign_in\tdisabled")
    for account in list_organisers(db.session):
        fields = (
            account.id,
            account.email,
            account.role.value,
            account.organisation.slug if account.organisation else "-",
            "on" if account.totp_enabled else "off",
            _when(account.last_login_at) or "never",
            _when(account.disabled_at) or "no",
        )
        click.echo("\t".join(str(field) for field in fields))


@organisers_group.command("disable")
@click.argument("account")
def organisers_disable(account: str) -> None:
    """Disable ACCOUNT (email or id): it is signed out everywhere at once."""
    from app.services.organisers import disable_organiser

    _change(disable_organiser, account, "Disabled account {}; its sessions have ended.")


@organisers_group.command("enable")
@click.argument("account")
def organisers_enable(account: str) -> None:
    """Let a disabled ACCOUNT (email or id) sign in again."""
    from app.services.organisers import enable_organiser

    _change(enable_organiser, account, "Enabled account {}.")


@organisers_group.command("reset-2fa")
@click.argument("account")
def organisers_reset_2fa(account: str) -> None:
    """For a lost authenticator: ACCOUNT (email or id) sets up two-factor again at its next sign-in."""
    from app.services.two_factor import reset_two_factor

    _change(reset_two_factor, account, "Two-factor reset for account {}; it sets it up again at its next sign-in.")


def _change(change: Callable[..., object], account: str, done: str) -> None:
    from app.services.audit import CLI
    from app.services.organisers import AccountError, find_organiser

    try:
        account_id = find_organiser(db.session, account).id
        change(db.session, CLI, account_id)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(done.format(account_id))


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


@click.command("audit")
@click.option("--action", help="Only this action, e.g. export or login.failed.")
@click.option("--actor", help="Only events by this account email (or cli, anonymous).")
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
def audit_command(action: str | None, actor: str | None, limit: int) -> None:
    """Print the audit log, newest first."""
    from app.services.audit import events

    for event in events(db.session, action=action, actor=actor, limit=limit):
        click.echo(f"{event.at.isoformat(timespec='seconds')}\t{event.actor}\t{event.action}\t{event.details}")
