"""The export on PostgreSQL: the server formats times and flags, Python only opens and quotes the personal data.

The generic path (export.signatory_rows into export_formats.csv_chunks / osdi_chunks) builds a
datetime and a Python object per cell and cost 3.5 to 5 times the raw read of the rows
(bench/README.md, "Export"). Here PostgreSQL writes the times, the yes/no and true/false cells,
and streams each row as a tuple of short strings and the two sealed values, in binary format,
while Python works on the rows before. Per row Python opens name and email, checks both in one
regular expression, looks up the few other cells in small caches, and joins. The bytes are those
of the generic path, which stays the reference and serves SQLite: tests/test_export_fast_path.py
exports hostile data both ways and compares bytes, chunks and audit events.

Why not COPY (SELECT ...) TO STDOUT: it streams too, but psycopg hands its text back a line at a
time through Python, and each line must be decoded, split, unescaped and its sealed values
hex-decoded: 4.5 s of client CPU a million rows before any decryption, against 1.6 s for a
binary stream of tuples (bench/README.md, read-copy and read-stream). And COPY takes no bind
parameters, so filter values would have to be quoted into the SQL text; a streamed query keeps
them bound by the server.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import closing
from json.encoder import encode_basestring
from typing import Any

from psycopg import pq
from sqlalchemy import Select, String, case, func, select
from sqlalchemy.orm import Session

from app.services.export_formats import (
    OSDI_ORIGIN_SYSTEM,
    ExportRow,
    csv_cells,
    region_cells,
    region_of,
    safe_csv_cell,
    split_name,
)
from app.services.keys import Keys

# A name and email joined by a comma that csv_chunks would write unchanged: each starts with a
# letter or digit (str.isalnum, so never a formula or an invisible character) and holds nothing
# the csv module quotes. [^\W_] is exactly str.isalnum for one character.
_PLAIN_PAIR = re.compile(r'[^\W_][^,"\r\n]*,[^\W_][^,"\r\n]*\Z').match
# isoformat() of a UTC time, as osdi_person writes them; fractions only when not whole seconds.
_ISO_SECONDS = 'YYYY-MM-DD"T"HH24:MI:SS'
_OSDI_HEAD = '{"identifiers":["care-dont-share:'
_OSDI_ORIGIN = f',"origin_system":{encode_basestring(OSDI_ORIGIN_SYSTEM)},"given_name":'


def usable(session: Session) -> bool:
    """True when the session's database is PostgreSQL through psycopg 3, which this path needs."""
    dialect = session.get_bind().dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


def csv_lines(session: Session, keys: Keys, query: Select, batch: int) -> Iterator[str]:
    """Each row of export_query's SELECT as csv_chunks writes it, in id order.

    Raises cryptography.fernet.InvalidToken if a row was sealed with a key no longer configured.
    """
    decrypt = keys.cipher.decrypt
    quoted = _Cache(lambda value: csv_cells(value or ""))  # sector and union: quoted, as they are
    safe = _Cache(safe_csv_cell)  # source and wording version: user-given, spreadsheet-safe
    regions = _Cache(region_cells)
    with closing(_rows(session, _csv_statement(query), batch)) as rows:
        for name, email, sector, union, postcode, source, consents_and_times, wording, verified in rows:
            name = decrypt(name)
            email = decrypt(email)
            pair = f"{name},{email}"
            if not _PLAIN_PAIR(pair):
                pair = f"{safe_csv_cell(name)},{safe_csv_cell(email)}"
            yield (
                f"{pair},{quoted[sector]},{quoted[union]},{regions[postcode]},{safe[source]},"
                f"{consents_and_times},{safe[wording]},{verified}\r\n"
            )


def osdi_people(session: Session, keys: Keys, query: Select, batch: int) -> Iterator[str]:
    """Each row of export_query's SELECT as the JSON object osdi_chunks writes for it, in id order.

    Raises cryptography.fernet.InvalidToken if a row was sealed with a key no longer configured.
    """
    decrypt = keys.cipher.decrypt
    text = _Cache(lambda value: "null" if value is None else encode_basestring(value))
    postal = _Cache(_postal_addresses)
    region = _Cache(lambda outward: text[region_of(outward)])
    with closing(_rows(session, _osdi_statement(query), batch)) as rows:
        for (
            id_, name, email, status, postcode, sector, union, shared, wording, verified, verified_at, created,
            modified, source,
        ) in rows:  # fmt: skip
            given, family = split_name(decrypt(name))
            family = f',"family_name":{encode_basestring(family)}' if family else ""
            union = text[union]
            yield (
                f'{_OSDI_HEAD}{id_}"]{_OSDI_ORIGIN}{encode_basestring(given)}{family}'
                f',"email_addresses":[{{"address":{encode_basestring(decrypt(email))},"primary":true,'
                f'"status":"{status}"}}]{postal[postcode]},"custom_fields":{{"sector":{text[sector]},'
                f'"union":{union},"region":{region[postcode]},"consent_share_union":{shared},'
                f'"wording_version":{text[wording]},"verified_work_email":{verified},'
                f'"verified_at":{verified_at}}},"created_date":"{created}","modified_date":"{modified}",'
                f'"referrer_data":{{"source":{text[source]},"referrer":{union}}}}}'
            )


def _postal_addresses(outward: str | None) -> str:
    if not outward:
        return ""
    return f',"postal_addresses":[{{"postal_code":{encode_basestring(outward)},"country":"GB","primary":true}}]'


class _Cache(dict):
    """A value's formatted text, worked out once: an export meets the same few thousand values a million times.

    Cleared when it grows large (sources are free text), so memory stays flat on any data.
    """

    LIMIT = 20_000

    def __init__(self, format_: Callable[[Any], str]) -> None:
        super().__init__()
        self._format = format_

    def __missing__(self, value: Any) -> str:
        if len(self) >= self.LIMIT:
            self.clear()
        text = self[value] = self._format(value)
        return text


# The statements: export_query's SELECT (its columns, joins, filters and scope) as a subquery,
# each column formatted by PostgreSQL where it can be, and ordered by id as before.


def _columns(query: Select) -> ExportRow:
    """export_query's columns by ExportRow's names: a column added there and not here fails at once."""
    return ExportRow(*query.subquery("export").c)


def _text(*parts) -> Any:
    return func.concat(*parts, type_=String)


def _yes_no(flag) -> Any:
    return case((flag, "yes"), else_="no")


def _true_false(flag) -> Any:
    return case((flag, "true"), else_="false")


def _utc_text(moment) -> Any:
    """As export_formats._utc_text: 2026-03-10 12:30:05."""
    return func.to_char(func.timezone("UTC", moment), "YYYY-MM-DD HH24:MI:SS", type_=String)


def _iso(moment) -> Any:
    """As moment.astimezone(UTC).isoformat(): 2026-03-10T12:30:05+00:00, with .123456 when not whole seconds."""
    utc = func.timezone("UTC", moment)
    fraction = case((func.date_trunc("second", utc) == utc, ""), else_=func.to_char(utc, ".US"))
    return _text(func.to_char(utc, _ISO_SECONDS), fraction, "+00:00")


def _csv_statement(query: Select) -> Select:
    row = _columns(query)
    return select(
        row.name,
        row.email,
        row.sector,
        row.union,
        row.postcode_area,
        row.source,
        func.concat_ws(
            ",",
            _yes_no(row.consent_updates),
            _yes_no(row.consent_share_union),
            _utc_text(row.signed_at),
            _utc_text(row.confirmed_at),
        ),
        row.wording_version,
        case((row.verified_at.is_(None), "no,"), else_=_text("yes,", _utc_text(row.verified_at))),
    ).order_by(row.id)


def _osdi_statement(query: Select) -> Select:
    row = _columns(query)
    return select(
        row.id,
        row.name,
        row.email,
        case((row.consent_updates, "subscribed"), else_="unsubscribed"),
        row.postcode_area,
        row.sector,
        row.union,
        _true_false(row.consent_share_union),
        row.wording_version,
        _true_false(row.verified_at.is_not(None)),
        case((row.verified_at.is_(None), "null"), else_=_text('"', _iso(row.verified_at), '"')),
        _iso(row.signed_at),
        _iso(func.greatest(row.signed_at, row.confirmed_at, row.consents_updated_at)),
        row.source,
    ).order_by(row.id)


def _rows(session: Session, statement: Select, batch: int) -> Iterator[tuple]:
    """The statement's rows, streamed in binary format on a connection of its own, batch rows at a time.

    The server sends rows while Python works on the ones before (one query, no round trip per
    batch), so the two cores share the work; the socket's buffers bound the memory. A streaming
    connection serves nothing else until the stream ends, so it is not the session's: the caller
    may still query and commit (the audit event) while rows are pending. The statement's
    parameters (filter values such as a source code) are bound by the server, never written into
    the SQL text. A stream closed early cancels the query, and the connection goes back to the
    pool rolled back.
    """
    engine = session.get_bind()
    compiled = statement.compile(dialect=engine.dialect)
    params = compiled.construct_params()
    for key, value in params.items():  # what SQLAlchemy's own execution does to each value (enums, times)
        processor = compiled.binds[key].type.dialect_impl(engine.dialect).bind_processor(engine.dialect)
        if processor is not None:
            params[key] = processor(value)
    size = batch if pq.version() >= 170000 else 1  # rows a batch needs libpq 17; before, one at a time
    with engine.connect() as connection, connection.connection.driver_connection.cursor() as cursor:
        yield from cursor.stream(str(compiled), params, binary=True, size=size)
