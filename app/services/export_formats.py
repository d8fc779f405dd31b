"""The export file formats: spreadsheet-safe CSV and OSDI-shaped JSON, written from ExportRows in chunks."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple

from app.services import geography

# Bytes of output gathered before a chunk is handed on.
CHUNK_BYTES = 64 * 1024
OSDI_ORIGIN_SYSTEM = "Care Don't Share"

CSV_HEADER = (
    "name",
    "email",
    "sector",
    "union",
    "postcode_area",
    "region",
    "source",
    "consent_updates",
    "consent_share_union",
    "signed_at_utc",
    "confirmed_at_utc",
    "wording_version",
    "verified_work_email",
    "verified_at_utc",
)
# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV injection"),
# and some spreadsheets fold the full-width forms (＝＋－＠) into them.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


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
    verified_at: datetime | None = None  # verified with a work email address (issue 12)


@lru_cache(maxsize=8192)
def region_of(outward: str | None) -> str | None:
    """The region slug (or "elsewhere") of a postcode outward code; None when not given or not understood.

    Cached: an export meets the same few thousand districts a million times.
    """
    region = geography.region_of(outward)
    return None if region == geography.NOT_GIVEN else region


def _utc_text(moment: datetime) -> str:
    """2026-03-10 12:30:05: a form every spreadsheet reads as a date and time."""
    return moment.astimezone(UTC).isoformat(" ", "seconds")[:19]


def _safe_cell(value: str | None) -> str:
    """The value as a spreadsheet shows it as text: formula-like cells get a leading apostrophe."""
    if not value:
        return ""
    if value[0].isalnum():  # the usual case, and never a formula start or an invisible character
        return value
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
                region_of(row.postcode_area) or "",
                safe(row.source),
                "yes" if row.consent_updates else "no",
                "yes" if row.consent_share_union else "no",
                _utc_text(row.signed_at),
                _utc_text(row.confirmed_at),
                safe(row.wording_version),
                "yes" if row.verified_at else "no",
                _utc_text(row.verified_at) if row.verified_at else "",
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
        "region": region_of(row.postcode_area),
        "consent_share_union": row.consent_share_union,
        "wording_version": row.wording_version,
        "verified_work_email": row.verified_at is not None,
        "verified_at": row.verified_at.astimezone(UTC).isoformat() if row.verified_at else None,
    }
    person["created_date"] = row.signed_at.astimezone(UTC).isoformat()
    person["modified_date"] = max(row.signed_at, row.confirmed_at, row.consents_updated_at).astimezone(UTC).isoformat()
    person["referrer_data"] = {"source": row.source, "referrer": row.union}
    return person


def osdi_chunks(rows: Iterable[ExportRow]) -> Iterator[bytes]:
    """An OSDI people collection as one JSON document, streamed; total_records comes last."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return osdi_text_chunks(dumps(osdi_person(row)) for row in rows)


# The PostgreSQL path (export_postgres.py) writes rows the server has partly formatted. These
# give it the same bytes in the same chunks as csv_chunks and osdi_chunks, which stay the
# reference: tests/test_export_fast_path.py compares the two on hostile data.


def _csv_line(values: Iterable[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


# The byte-order mark and the header line that begin every CSV export.
CSV_HEAD = "\ufeff" + _csv_line(CSV_HEADER)


def csv_cells(*values: str) -> str:
    """The values as csv_chunks writes them within a line: quoted where needed, comma-separated, no line end."""
    # One more, empty, cell: the csv module writes a line holding only an empty cell as "".
    return _csv_line((*values, ""))[:-3]


def safe_csv_cell(value: str | None) -> str:
    """One cell of personal or user-given text, spreadsheet-safe and quoted, as csv_chunks writes it."""
    return csv_cells(_safe_cell(value))


def region_cells(outward: str | None) -> str:
    """The postcode_area and region cells of a row, as csv_chunks writes them."""
    return csv_cells(_safe_cell(outward), region_of(outward) or "")


def _in_chunks(head: str, texts: Iterable[str], tail: Callable[[], str] = str) -> Iterator[bytes]:
    """head, the texts and then tail() as UTF-8, in chunks of CHUNK_BYTES characters or more (the last one less)."""
    parts = [head]
    size = len(head)
    for text in texts:
        parts.append(text)
        size += len(text)
        if size >= CHUNK_BYTES:
            yield "".join(parts).encode()
            parts.clear()
            size = 0
    parts.append(tail())
    yield "".join(parts).encode()


def csv_text_chunks(lines: Iterable[str]) -> Iterator[bytes]:
    """csv_chunks for rows already written as CSV lines (each ending in CRLF): the same bytes, the same chunks."""
    return _in_chunks(CSV_HEAD, lines)


def osdi_text_chunks(people: Iterable[str]) -> Iterator[bytes]:
    """An OSDI people collection from people already written as JSON objects; total_records comes last."""
    total = 0

    def separated() -> Iterator[str]:
        nonlocal total
        for person in people:
            yield "," + person if total else person
            total += 1

    return _in_chunks(
        '{"_embedded":{"osdi:people":[',
        separated(),
        lambda: f']}},"total_records":{total},"page":1,"total_pages":1}}',
    )
