"""`flask keys rotate`: re-seal every encrypted value under the first ENCRYPTION_KEY."""

from __future__ import annotations

import sys

import click

from app.extensions import db, keys


@click.group("keys")
def keys_group() -> None:
    """Encryption keys (see the README's "Key rotation")."""


@keys_group.command("rotate")
@click.option("--batch", type=click.IntRange(1, 10_000), default=1000, show_default=True, help="Rows per transaction.")
def keys_rotate(batch: int) -> None:
    """Re-seal every name, email and other encrypted value under the first key; safe to re-run."""
    from app.services.key_rotation import rotate_keys, rows_to_rotate

    total = rows_to_rotate(db.session)
    db.session.rollback()
    with click.progressbar(length=total, label="Re-sealing", file=sys.stderr) as bar:
        report = rotate_keys(db.session, keys().cipher, batch=batch, progress=bar.update)
    click.echo(f"Re-sealed {report.total_resealed} values; {report.current} were already under the first key.")
    for column, count in sorted(report.resealed.items()):
        click.echo(f"  {column}: {count}")
    if report.unreadable:
        click.echo(
            f"{report.unreadable} values could not be opened with any configured key and were left as they are: "
            "put the key that sealed them back in ENCRYPTION_KEY and run this again.",
            err=True,
        )
        sys.exit(1)
