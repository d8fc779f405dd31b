"""Exports of confirmed signatories: spreadsheet-safe CSV and OSDI JSON, streamed, scoped and audited."""

from __future__ import annotations

import csv
import enum
import io
import json
import unicodedata
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import NamedTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.models import Organisation, Organiser, OrganiserRole, Sector, Signature, SignatureStatus
from app.services import audit
from app.services.counts import UnknownFilter
from app.services.days import within_days
from app.services.keys import Keys

__all__ = [
    "CSV_HEADER",
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

# Rows fetched from the database per round trip; memory stays flat whatever the table size.
YIELD_PER = 5000
# Bytes of output gathered before a chunk is handed on.
CHUNK_BYTES = 64 * 1024
OSDI_ORIGIN_SYSTEM = "Care Don't Share"

CSV_HEADER = (
    "name",
    "email",
    "sector",
    "union",
    "postcode_area",
    "source",
    "consent_updates",
    "consent_share_union",
    "signed_at_utc",
    "confirmed_at_utc",
    "wording_version",
)
# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV injection"),
# and some spreadsheets fold the full-width forms (＝＋－＠) into them.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


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


class ExportRow(NamedTuple):
    """One confirmed signatory, decrypted. Sector and union are slugs."""

    id: int
    name: str
    email: str
    sector: str
    union: str | None
    postcode_area: str | None
    source: str | None
    consent_updates: bool
    consent_share_union: bool
    signed_at: datetime
    confirmed_at: datetime
    consents_updated_at: datetime
    wording_version: str


def export_query(session: Session, filters: ExportFilters, scope: ExportScope) -> Select:
    """The SELECT of confirmed, not anonymised signatures in the scope matching the filters.

    Call it before streaming starts: it raises UnknownFilter for a sector or union slug that
    does not exist, which a view turns into a 400. A date range that ends before it starts
    matches nothing.
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
        query = query.where(Signature.sector_id == _id_for(session, Sector, filters.sector, "sector"))
    if filters.org:
        query = query.where(Signature.organisation_id == _id_for(session, Organisation, filters.org, "organisation"))
    if filters.source:
        query = query.where(Signature.source == filters.source)
    query = query.where(*within_days(Signature.confirmed_at, filters.confirmed_from, filters.confirmed_to))
    if filters.consent_updates is not None:
        query = query.where(Signature.consent_updates.is_(filters.consent_updates))
    return query


def _id_for(session: Session, model: type[Sector] | type[Organisation], slug: str, label: str) -> int:
    found = session.execute(select(model.id).where(model.slug == slug)).scalar_one_or_none()
    if found is None:
        raise UnknownFilter(f"Unknown {label} {slug!r}.")
    return found


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


def _utc_text(moment: datetime) -> str:
    """2026-03-10 12:30:05: a form every spreadsheet reads as a date and time."""
    return moment.astimezone(UTC).isoformat(" ", "seconds")[:19]


def _safe_cell(value: str | None) -> str:
    """The value as a spreadsheet shows it as text: formula-like cells get a leading apostrophe."""
    if not value:
        return ""
    return "'" + value if _formula_like(value) else value


def _formula_like(value: str) -> bool:
    """True if the cell starts like a formula, also behind invisible format characters (Cf, e.g. U+200B)."""
    start = 0
    while start < len(value) and unicodedata.category(value[start]) == "Cf":
        start += 1
    return value.startswith(_FORMULA_STARTS, start)


def csv_chunks(rows: Iterable[ExportRow]) -> Iterator[bytes]:
    """UTF-8 CSV with a byte-order mark (so Excel reads the accents) and CSV_HEADER, in ~64 KB chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADER)
    safe = _safe_cell
    for row in rows:
        writer.writerow(
            (
                safe(row.name),
                safe(row.email),
                row.sector,
                row.union or "",
                safe(row.postcode_area),
                safe(row.source),
                "yes" if row.consent_updates else "no",
                "yes" if row.consent_share_union else "no",
                _utc_text(row.signed_at),
                _utc_text(row.confirmed_at),
                safe(row.wording_version),
            )
        )
        if buffer.tell() >= CHUNK_BYTES:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def split_name(name: str) -> tuple[str, str | None]:
    """(given_name, family_name): the last word is the family name; a one-word name has none."""
    given, _, family = name.strip().rpartition(" ")
    if not given:
        return family, None
    return given.strip(), family


def osdi_person(row: ExportRow) -> dict:
    """One signatory as an OSDI person (https://opensupporter.github.io/osdi-docs/people.html)."""
    given, family = split_name(row.name)
    person: dict = {"identifiers": [f"care-dont-share:{row.id}"], "origin_system": OSDI_ORIGIN_SYSTEM}
    person["given_name"] = given
    if family:
        person["family_name"] = family
    person["email_addresses"] = [
        {"address": row.email, "primary": True, "status": "subscribed" if row.consent_updates else "unsubscribed"}
    ]
    if row.postcode_area:
        person["postal_addresses"] = [{"postal_code": row.postcode_area, "country": "GB", "primary": True}]
    person["custom_fields"] = {
        "sector": row.sector,
        "union": row.union,
        "consent_share_union": row.consent_share_union,
        "wording_version": row.wording_version,
    }
    person["created_date"] = row.signed_at.astimezone(UTC).isoformat()
    person["modified_date"] = max(row.signed_at, row.confirmed_at, row.consents_updated_at).astimezone(UTC).isoformat()
    person["referrer_data"] = {"source": row.source, "referrer": row.union}
    return person


def osdi_chunks(rows: Iterable[ExportRow]) -> Iterator[bytes]:
    """An OSDI people collection as one JSON document, streamed; total_records comes last."""
    parts = ['{"_embedded":{"osdi:people":[']
    size = len(parts[0])
    total = 0
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for row in rows:
        text = ("," if total else "") + dumps(osdi_person(row))
        total += 1
        parts.append(text)
        size += len(text)
        if size >= CHUNK_BYTES:
            yield "".join(parts).encode()
            parts.clear()
            size = 0
    parts.append(f']}},"total_records":{total},"page":1,"total_pages":1}}')
    yield "".join(parts).encode()


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
    rows: Iterator[ExportRow],
    actor: audit.Actor,
    export_format: ExportFormat,
    filters: ExportFilters,
    scope: ExportScope,
) -> Generator[ExportRow, None, None]:
    """Pass rows through and record the export when the stream ends, is closed early or fails.

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
    """The export as byte chunks, audited when it ends; raises UnknownFilter now, before streaming.

    The chunks hold the session's connection until they are exhausted or closed, so a web view
    must keep the session alive for the response (stream_with_context) and close the iterator.
    """
    query = export_query(session, filters, scope)
    rows = audited(session, signatory_rows(session, keys, query), actor, export_format, filters, scope)
    chunks = csv_chunks(rows) if export_format is ExportFormat.CSV else osdi_chunks(rows)
    return _closing_chain(chunks, rows)


def _closing_chain(chunks: Iterator[bytes], rows: Generator[ExportRow, None, None]) -> Generator[bytes, None, None]:
    # A generator closed mid-loop does not close the iterator it loops over; close both, so the
    # cursor is released and the audit event written as soon as the consumer stops.
    try:
        yield from chunks
    finally:
        rows.close()
