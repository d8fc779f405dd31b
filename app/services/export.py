"""Exports of confirmed signatories: spreadsheet-safe CSV and OSDI JSON, streamed, scoped and audited."""

from __future__ import annotations

import enum
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.models import Organisation, Organiser, OrganiserRole, Sector, Signature, SignatureStatus
from app.services import audit, export_postgres
from app.services.counts import UnknownFilter, id_for_slug
from app.services.days import DayOutOfRange, within_days
from app.services.export_formats import (
    CSV_HEADER,
    ExportRow,
    csv_chunks,
    csv_text_chunks,
    osdi_chunks,
    osdi_person,
    osdi_text_chunks,
    split_name,
)
from app.services.keys import Keys

__all__ = [
    "CSV_HEADER",
    "DayOutOfRange",
    "ExportFilters",
    "ExportFormat",
    "ExportRow",
    "ExportScope",
    "UnknownFilter",
    "audited",
    "csv_chunks",
    "export_query",
    "osdi_chunks",
    "osdi_person",
    "record_export",
    "signatory_rows",
    "split_name",
    "stream_export",
]

# Rows fetched from the database at a time; memory stays flat whatever the table size.
YIELD_PER = 5000

Row = TypeVar("Row")


class ExportFormat(enum.StrEnum):
    CSV = "csv"
    OSDI = "osdi"

    @property
    def media_type(self) -> str:
        return "text/csv; charset=utf-8" if self is ExportFormat.CSV else "application/hal+json"

    def filename(self, now: datetime) -> str:
        extension = "csv" if self is ExportFormat.CSV else "json"
        return f"signatories-{now.strftime('%Y%m%d-%H%M%S')}.{extension}"


@dataclass(frozen=True)
class ExportFilters:
    """What the organiser asked for; every given filter narrows the export. Dates are UTC days."""

    sector: str | None = None
    org: str | None = None
    source: str | None = None
    confirmed_from: date | None = None
    confirmed_to: date | None = None  # inclusive
    consent_updates: bool | None = None

    def describe(self) -> dict[str, str | bool]:
        """The filters given, for the audit log (slugs, a source code, dates; no personal data)."""
        described: dict[str, str | bool] = {}
        for key, value in vars(self).items():
            if value is None or value == "":
                continue
            described[key] = value.isoformat() if isinstance(value, date) else value
        return described


@dataclass(frozen=True)
class ExportScope:
    """Whose signatories may be exported at all; filters only ever narrow it.

    organisation_id None is everything (campaign staff). An id is one union's organiser:
    only signatures crediting that union whose signer agreed to be shared with it.
    """

    organisation_id: int | None

    @classmethod
    def everything(cls) -> ExportScope:
        return cls(None)

    @classmethod
    def of(cls, organiser: Organiser) -> ExportScope:
        """The scope an account is allowed: an admin sees all, a union organiser only their union."""
        if organiser.role == OrganiserRole.ADMIN:
            return cls.everything()
        if organiser.organisation_id is None:  # the schema forbids it; refuse rather than widen
            raise ValueError("organiser account has no union")
        return cls(organiser.organisation_id)

    def describe(self) -> dict[str, int | str | None]:
        if self.organisation_id is None:
            return {"organisation_id": None}
        return {"organisation_id": self.organisation_id, "only": "consent_share_union"}


def export_query(session: Session, filters: ExportFilters, scope: ExportScope) -> Select:
    """The SELECT of confirmed, not anonymised signatures in the scope matching the filters.

    Call it before streaming starts: it raises UnknownFilter for a sector or union slug that
    does not exist and DayOutOfRange for a day outside days.FIRST_DAY..LAST_DAY, which a view
    turns into a 400. A date range that ends before it starts matches nothing.
    """
    query = (
        select(
            Signature.id,
            Signature.name_encrypted,
            Signature.email_encrypted,
            Sector.slug,
            Organisation.slug,
            Signature.postcode_outward,
            Signature.source,
            Signature.consent_updates,
            Signature.consent_share_union,
            Signature.created_at,
            Signature.confirmed_at,
            Signature.consents_updated_at,
            Signature.wording_version,
            Signature.verified_at,
        )
        .join(Sector, Sector.id == Signature.sector_id)
        .outerjoin(Organisation, Organisation.id == Signature.organisation_id)
        .where(
            Signature.status == SignatureStatus.CONFIRMED,
            Signature.email_encrypted.is_not(None),
            Signature.name_encrypted.is_not(None),
        )
        .order_by(Signature.id)
    )
    if scope.organisation_id is not None:
        query = query.where(
            Signature.organisation_id == scope.organisation_id,
            Signature.consent_share_union.is_(True),
        )
    if filters.sector:
        query = query.where(Signature.sector_id == id_for_slug(session, Sector, filters.sector, "sector"))
    if filters.org:
        query = query.where(
            Signature.organisation_id == id_for_slug(session, Organisation, filters.org, "organisation")
        )
    if filters.source:
        query = query.where(Signature.source == filters.source)
    query = query.where(*within_days(Signature.confirmed_at, filters.confirmed_from, filters.confirmed_to))
    if filters.consent_updates is not None:
        query = query.where(Signature.consent_updates.is_(filters.consent_updates))
    return query


def count_export(session: Session, filters: ExportFilters, scope: ExportScope) -> int:
    """How many rows export_query would give (for a progress bar); raises UnknownFilter or DayOutOfRange."""
    query = export_query(session, filters, scope).order_by(None)
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def signatory_rows(session: Session, keys: Keys, query: Select) -> Iterator[ExportRow]:
    """Run export_query's SELECT and yield decrypted rows in id order, streaming from the server.

    Raises cryptography.fernet.InvalidToken if a row was encrypted with a key no longer configured.
    """
    decrypt = keys.cipher.decrypt
    # Core rows on the session's connection: the ORM's per-row work would cost about 4 s a million.
    result = session.connection().execute(query, execution_options={"yield_per": YIELD_PER})
    try:
        for id_, name, email, *rest in result:  # rest in ExportRow's order, from sector on
            yield ExportRow(id_, decrypt(name), decrypt(email), *rest)
    finally:
        result.close()


def record_export(
    session: Session,
    actor: audit.Actor,
    export_format: ExportFormat,
    filters: ExportFilters,
    scope: ExportScope,
    rows: int,
    completed: bool,
) -> None:
    """Write the "export" audit event and commit it (its own transaction; the caller's is rolled back)."""
    session.rollback()
    audit.record(
        session,
        actor,
        "export",
        format=export_format.value,
        filters=filters.describe(),
        scope=scope.describe(),
        rows=rows,
        completed=completed,
    )
    session.commit()


def audited(
    session: Session,
    rows: Iterator[Row],
    actor: audit.Actor,
    export_format: ExportFormat,
    filters: ExportFilters,
    scope: ExportScope,
) -> Generator[Row, None, None]:
    """Pass rows (ExportRows, or rows already formatted) through and record the export when the
    stream ends, is closed early or fails.

    The count is of rows handed on (a consumer that buffers may have sent fewer); completed
    is False unless every row was handed on. Nothing is recorded if it is never started.
    """
    produced = 0
    completed = False
    try:
        for row in rows:
            produced += 1
            yield row
        completed = True
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()  # release the server-side cursor before the audit commit
        record_export(session, actor, export_format, filters, scope, produced, completed)


def stream_export(
    session: Session,
    keys: Keys,
    actor: audit.Actor,
    export_format: ExportFormat,
    filters: ExportFilters,
    scope: ExportScope,
) -> Generator[bytes, None, None]:
    """The export as byte chunks, audited when it ends; raises UnknownFilter or DayOutOfRange now.

    The chunks hold the session's connection until they are exhausted or closed, so a web view
    must keep the session alive for the response (stream_with_context) and close the iterator.
    On PostgreSQL the rows stream on a second pooled connection (export_postgres), released at
    the same moment; the bytes are the same as on the generic path.
    """
    query = export_query(session, filters, scope)
    csv = export_format is ExportFormat.CSV
    if export_postgres.usable(session):  # the same bytes, with PostgreSQL doing the formatting it can
        lines = (export_postgres.csv_lines if csv else export_postgres.osdi_people)(session, keys, query, YIELD_PER)
        formatted = audited(session, lines, actor, export_format, filters, scope)
        return _closing_chain(csv_text_chunks(formatted) if csv else osdi_text_chunks(formatted), formatted)
    rows = audited(session, signatory_rows(session, keys, query), actor, export_format, filters, scope)
    return _closing_chain(csv_chunks(rows) if csv else osdi_chunks(rows), rows)


def _closing_chain(chunks: Iterator[bytes], rows: Generator) -> Generator[bytes, None, None]:
    # A generator closed mid-loop does not close the iterator it loops over; close both, so the
    # cursor is released and the audit event written as soon as the consumer stops.
    try:
        yield from chunks
    finally:
        rows.close()
