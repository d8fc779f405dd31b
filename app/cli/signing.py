"""`flask signing pause|resume|status`: the site-wide pause switch."""

from __future__ import annotations

import click
from flask import current_app

from app.extensions import db


@click.group()
def signing() -> None:
    """Pause or resume signing site-wide (counts keep working)."""


@signing.command("pause")
def signing_pause() -> None:
    """Pause signing (recorded in the audit log as "cli")."""
    from app.services.audit import CLI
    from app.services.settings import set_signing_paused

    set_signing_paused(db.session, CLI, True)
    click.echo(
        "Signing is paused: forms show a notice and accept nothing. Running app processes "
        f"stop taking sign-ups within {_lifetime()} seconds (REFERENCE_CACHE_SECONDS)."
    )


@signing.command("resume")
def signing_resume() -> None:
    """Resume signing (recorded in the audit log as "cli")."""
    from app.services.audit import CLI
    from app.services.settings import set_signing_paused

    set_signing_paused(db.session, CLI, False)
    click.echo(f"Signing has resumed: running app processes take sign-ups again within {_lifetime()} seconds.")


@signing.command("status")
def signing_status() -> None:
    from app.services.settings import signing_paused

    click.echo("paused" if signing_paused(db.session) else "open")


def _lifetime() -> str:
    return f"{current_app.config['REFERENCE_CACHE_SECONDS']:g}"
