"""`flask export csv|osdi`: the organisers' export from the command line, through the same service."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Generator
from datetime import date, datetime
from typing import BinaryIO, TextIO

import click
from sqlalchemy import select

from app.extensions import db, keys
from app.models import Organisation
from app.services import audit
from app.services.days import DayOutOfRange, check_day
from app.services.export import (
    ExportFilters,
    ExportFormat,
    ExportScope,
    UnknownFilter,
    count_export,
    stream_export,
)


@click.group()
def export() -> None:
    """Export confirmed signatories (recorded in the audit log as "cli")."""


def _filter_day(context: click.Context, parameter: click.Parameter, value: datetime | None) -> date | None:
    """The UTC day given, if a filter may use it (the day after 9999-12-31 does not exist)."""
    if value is None:
        return None
    try:
        return check_day(value.date())
    except DayOutOfRange as error:
        raise click.BadParameter(str(error), context, parameter) from None


def _options(command: Callable) -> Callable:
    day = click.DateTime(formats=["%Y-%m-%d"])
    options = [
        click.option("--sector", metavar="SLUG", help="Only this sector, e.g. education."),
        click.option("--org", metavar="SLUG", help="Only signers who chose this union, e.g. neu."),
        click.option("--source", metavar="CODE", help="Only signers who arrived with this ?source= code."),
        click.option(
            "--from",
            "confirmed_from",
            type=day,
            callback=_filter_day,
            help="Confirmed on or after this UTC day (YYYY-MM-DD).",
        ),
        click.option(
            "--to",
            "confirmed_to",
            type=day,
            callback=_filter_day,
            help="Confirmed on or before this UTC day (YYYY-MM-DD).",
        ),
        click.option(
            "--consent-updates/--no-consent-updates",
            default=None,
            help="Only those who did (or did not) agree to campaign updates. Default: both.",
        ),
        click.option(
            "--scope-org",
            metavar="SLUG",
            help="Export as this union's organiser would: only its signers who agreed to be shared with it.",
        ),
        click.option(
            "--output",
            "-o",
            type=click.Path(dir_okay=False, writable=True),
            help="Write to this file (created readable by you only). Default: standard output.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@export.command("csv")
@_options
def export_csv(**options) -> None:
    """Spreadsheet-safe CSV (UTF-8 with BOM) of confirmed signatories."""
    _export(ExportFormat.CSV, **options)


@export.command("osdi")
@_options
def export_osdi(**options) -> None:
    """An OSDI people collection (JSON) of confirmed signatories, for campaign CRMs."""
    _export(ExportFormat.OSDI, **options)


def _export(
    export_format: ExportFormat,
    *,
    sector: str | None,
    org: str | None,
    source: str | None,
    confirmed_from: date | None,
    confirmed_to: date | None,
    consent_updates: bool | None,
    scope_org: str | None,
    output: str | None,
) -> None:
    filters = ExportFilters(
        sector=sector,
        org=org,
        source=source,
        confirmed_from=confirmed_from,
        confirmed_to=confirmed_to,
        consent_updates=consent_updates,
    )
    if filters.confirmed_from and filters.confirmed_to and filters.confirmed_from > filters.confirmed_to:
        raise click.BadParameter("must not be before --from.", param_hint="'--to'")
    scope = _scope(scope_org)
    try:
        terminal = _terminal()
        total = count_export(db.session, filters, scope) if terminal else None
        chunks = stream_export(db.session, keys(), audit.CLI, export_format, filters, scope)
    except (UnknownFilter, DayOutOfRange) as error:
        raise click.UsageError(str(error)) from None
    # One row ends each CSV line (names and emails hold no line breaks); one person object has one "identifiers".
    marker = b"\n" if export_format is ExportFormat.CSV else b'"identifiers"'
    if output is None:
        with click.open_file("-", "wb") as stdout:  # the binary stream, left open
            _write(chunks, stdout, terminal, total, marker)
        return
    with os.fdopen(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as file:
        _write(chunks, file, terminal, total, marker)
    click.echo(f"Wrote {output} (the export is recorded in the audit log).", err=True)


def _scope(slug: str | None) -> ExportScope:
    if slug is None:
        return ExportScope.everything()
    found = db.session.execute(select(Organisation.id).where(Organisation.slug == slug)).scalar_one_or_none()
    if found is None:
        raise click.BadParameter(f"no union {slug!r}.", param_hint="'--scope-org'")
    return ExportScope(found)


def _terminal() -> TextIO | None:
    """stderr if a person is watching it; None when it is piped or redirected (then we stay quiet)."""
    return sys.stderr if sys.stderr.isatty() else None


def _write(
    chunks: Generator[bytes, None, None], stream: BinaryIO, terminal: TextIO | None, total: int | None, marker: bytes
) -> None:
    """Write every chunk; on a terminal, show a progress bar of rows."""
    try:
        if terminal is None or total is None:
            for chunk in chunks:
                stream.write(chunk)
        else:
            header = 1 if marker == b"\n" else 0  # the CSV header line is not a row
            with click.progressbar(length=total, label="Exporting", file=terminal, show_pos=True) as bar:
                for chunk in chunks:
                    stream.write(chunk)
                    bar.update(chunk.count(marker) - header)
                    header = 0
    finally:
        chunks.close()  # records the export at once, also if writing failed
    stream.flush()
