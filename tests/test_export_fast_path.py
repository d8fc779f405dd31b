"""The PostgreSQL export path writes exactly what the generic path writes: bytes, chunks and audit events."""

from __future__ import annotations

import itertools
import json
import secrets
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import event, select, text

from app.extensions import db
from app.models import AuditEvent, Signature, SignatureStatus
from app.services import audit, export, export_formats, export_postgres
from app.services.export import ExportFilters, ExportFormat, ExportScope, signatory_rows, stream_export

EVERYTHING = ExportScope.everything()
MARCH_10 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

# Cells a spreadsheet or a CSV reader could trip on, and text only Unicode gets right.
HOSTILE_NAMES = [
    "Ada Lovelace",
    "Lovelace, Ada",
    'Ada "The Countess" Lovelace',
    "Ada\nLovelace",
    "Ada\r\nLovelace",
    "Ada\tLovelace",
    "Ada\\Lovelace",
    "=SUM(A1:A2) Ada",
    '=HYPERLINK("http://evil.example","click")',
    "+44 20 7946 0000",
    "-1",
    "@cmd",
    "\t=1",
    "\r=1",
    "\uff1dHYPERLINK(1)",
    "\uff0b44 20",
    "\uff0d1",
    "\uff20SUM(A1)",
    "\u200b=1+1",
    "\u2060\ufeff@SUM(A1)",
    "\u202e-1",
    "\u200bAnn",
    "\ufeffAnn",
    "_underscore",
    "'quoted'",
    " leading space",
    "trailing space ",
    "Cher",
    "",
    "   ",
    "Zoë Ní Bhriain",
    "Łukasz Żółć",
    "Çağrı Öztürk",
    "王秀英",
    "٣ Arabic-Indic digit",
    "Siân 👩🏽‍🏫 Jones",
    "😀",
    "Mary Ann de la Cruz",
    'a,b"c\nd',
]
HOSTILE_EMAILS = ["-x@example.com", '"quoted"@example.com', "a,b@example.com", "=1@example.com", "ünï@example.com"]
SOURCES = [
    None,
    "",
    "neu-mail",
    "=cmd|' /C calc'!A0",
    "a,b",
    'a"b',
    "a\nb",
    "a\\b",
    "a\tb",
    "\u200b@x",
    "O'Brien",
    "😀",
]
POSTCODES = [None, "", "SW1A", "sw1a", "M1", "CH5", "GY1", "BX1", "=1", "+44", "A,B", 'A"B']
WORDINGS = ["2026-01", "=1", "2026,01", "@v2"]


@pytest.fixture(autouse=True)
def postgresql_only(backend):
    if backend != "postgresql":
        pytest.skip("the fast path is PostgreSQL's; SQLite always takes the generic path")


@pytest.fixture
def insert(app, keys, sector_id, org_id):
    """Insert a confirmed signature with exactly these values; returns its id."""
    numbers = itertools.count(1)
    fernet = Fernet(app.config["ENCRYPTION_KEY"].split(",")[0])  # as values were sealed before AES-GCM

    def insert(
        name: str = "Ada Lovelace",
        email: str | None = None,
        *,
        sector: str = "education",
        union: str | None = None,
        share: bool = False,
        updates: bool = False,
        source: str | None = None,
        postcode: str | None = None,
        wording: str = "2026-01",
        signed_at: datetime = MARCH_10,
        confirmed_at: datetime | None = None,
        consents_updated_at: datetime | None = None,
        verified_at: datetime | None = None,
        legacy: bool = False,
        status: SignatureStatus = SignatureStatus.CONFIRMED,
    ) -> int:
        email = email if email is not None else f"signer{next(numbers)}@example.com"
        seal = (lambda value: fernet.encrypt(value.encode())) if legacy else keys.cipher.encrypt
        signature = Signature(
            email_key=keys.cipher.blind_index(f"{next(numbers)}:{email}"),
            email_encrypted=seal(email),
            name_encrypted=seal(name),
            sector_id=sector_id(sector),
            organisation_id=org_id(union) if union else None,
            postcode_outward=postcode,
            source=source,
            consent_updates=updates,
            consent_share_union=share,
            wording_version=wording,
            status=status,
            held_reason="honeypot" if status is SignatureStatus.HELD else None,
            token_nonce=secrets.token_bytes(16),
            created_at=signed_at,
            consents_updated_at=consents_updated_at or signed_at,
            confirmed_at=(confirmed_at or signed_at) if status is SignatureStatus.CONFIRMED else None,
            verified_at=verified_at,
            verified_sector_id=sector_id(sector) if verified_at else None,
        )
        db.session.add(signature)
        db.session.commit()
        return signature.id

    return insert


@pytest.fixture
def hostile(insert):
    """Every hostile value in some row, with every combination of what may be missing."""
    unions = [None, "neu", "unison"]
    plus_one = timezone(timedelta(hours=1))
    for i, name in enumerate(HOSTILE_NAMES):
        union = unions[i % 3]
        insert(
            name,
            HOSTILE_EMAILS[i % len(HOSTILE_EMAILS)] if i % 4 == 0 else None,
            sector=["education", "health", "policing"][i % 3],
            union=union,
            share=union is not None and i % 2 == 0,
            updates=i % 5 < 2,
            source=SOURCES[i % len(SOURCES)],
            postcode=POSTCODES[i % len(POSTCODES)],
            wording=WORDINGS[i % len(WORDINGS)],
            signed_at=MARCH_10 + timedelta(days=i % 3, seconds=i, microseconds=(i * 7919) % 3 * 250_000),
            confirmed_at=(MARCH_10 + timedelta(days=i % 3, minutes=5)).astimezone(plus_one),
            consents_updated_at=MARCH_10 + timedelta(days=4, microseconds=i) if i % 6 == 0 else None,
            verified_at=MARCH_10 + timedelta(hours=1, microseconds=i // 4 % 2 * 123_456) if i % 4 == 1 else None,
            legacy=i % 3 == 1,  # Fernet tokens, written before AES-GCM, mixed in
        )
    insert("Held Back", status=SignatureStatus.HELD)  # never exported, by either path


def run(
    export_format: ExportFormat,
    filters: ExportFilters = ExportFilters(),
    scope: ExportScope = EVERYTHING,
    take: int | None = None,
) -> list[bytes]:
    """The export's chunks (the first take of them, then closed), through whichever path is in force."""
    from app.extensions import keys

    chunks = stream_export(db.session, keys(), audit.CLI, export_format, filters, scope)
    try:
        return list(chunks if take is None else itertools.islice(chunks, take))
    finally:
        chunks.close()


@pytest.fixture(autouse=True)
def foreign_time_zone(app):
    """Every connection in a time zone half an hour off UTC: both paths must still write UTC."""

    def set_time_zone(dbapi_connection, connection_record, connection_proxy):
        dbapi_connection.execute("SET TIME ZONE 'America/St_Johns'")

    event.listen(db.engine, "checkout", set_time_zone)
    yield
    event.remove(db.engine, "checkout", set_time_zone)


@pytest.fixture(autouse=True)
def fast_path_only(monkeypatch):
    """Outside generic(), the generic reader must not run: comparing it with itself would prove nothing."""

    def refuse(*args, **kwargs):
        raise AssertionError("the generic path ran on PostgreSQL")

    monkeypatch.setattr(export, "signatory_rows", refuse)


@pytest.fixture
def generic(monkeypatch):
    """Call a function with the fast path switched off: the reference the fast path must match."""

    def generic(function, *args, **kwargs):
        with monkeypatch.context() as patch:
            patch.setattr(export_postgres, "usable", lambda session: False)
            patch.setattr(export, "signatory_rows", signatory_rows)
            return function(*args, **kwargs)

    return generic


def export_events() -> list[dict]:
    found = db.session.execute(select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id))
    return [{"actor": row.actor, **json.loads(row.details)} for row in found.scalars()]


def assert_audited_alike() -> dict:
    """The last two exports (generic, then fast) wrote the same audit event; returns it."""
    *_, reference, fast = export_events()
    assert fast == reference
    return fast


FILTERS = [
    ExportFilters(),
    ExportFilters(sector="health"),
    ExportFilters(org="neu"),
    ExportFilters(source="a,b"),
    ExportFilters(source="O'Brien"),
    ExportFilters(source="a\\b"),
    ExportFilters(source="x'; DROP TABLE signature; --"),
    ExportFilters(consent_updates=True),
    ExportFilters(consent_updates=False),
    ExportFilters(confirmed_from=date(2026, 3, 11)),
    ExportFilters(confirmed_to=date(2026, 3, 11)),
    ExportFilters(confirmed_from=date(2026, 3, 11), confirmed_to=date(2026, 3, 11), sector="education"),
]


@pytest.mark.parametrize("export_format", list(ExportFormat))
@pytest.mark.parametrize("filters", FILTERS)
def test_fast_path_writes_the_generic_bytes_for_hostile_data(hostile, generic, export_format, filters):
    expected = generic(run, export_format, filters)
    assert run(export_format, filters) == expected
    assert_audited_alike()


@pytest.mark.parametrize("export_format", list(ExportFormat))
def test_fast_path_keeps_the_union_scope(hostile, generic, org_id, export_format):
    for union in ("neu", "unison"):
        scope = ExportScope(org_id(union))
        for filters in (ExportFilters(), ExportFilters(org="unison"), ExportFilters(source="neu-mail")):
            expected = generic(run, export_format, filters, scope)
            assert run(export_format, filters, scope) == expected
            assert_audited_alike()


def test_the_hostile_rows_are_there_and_do_come_out_hostile(hostile, keys):
    """The comparison is only worth something if the data exercises every branch."""
    assert db.session.execute(text("SHOW TIME ZONE")).scalar_one() == "America/St_Johns"
    data = b"".join(run(ExportFormat.CSV)).decode()
    assert "2026-03-10 12:05:00" in data  # the first confirmation, in UTC
    assert data.count("\r\n") > len(HOSTILE_NAMES)  # line breaks inside quoted names
    for cell in ('"Lovelace, Ada"', "'=SUM(A1:A2) Ada", "'\u200b=1+1", "\u200bAnn", "'\uff20SUM(A1)", '"a,b"'):
        assert cell in data
    assert "Held Back" not in data
    people = json.loads(b"".join(run(ExportFormat.OSDI)))["_embedded"]["osdi:people"]
    assert len(people) == len(HOSTILE_NAMES)
    assert any(p["custom_fields"]["verified_at"] and "." in p["custom_fields"]["verified_at"] for p in people)
    assert any("." in p["created_date"] for p in people) and any("." not in p["created_date"] for p in people)
    legacy = db.session.execute(select(Signature.name_encrypted)).scalars().all()
    assert {bytes(token)[:1] == b"\x02" for token in legacy} == {True, False}  # AES-GCM and Fernet


@pytest.mark.parametrize("export_format", list(ExportFormat))
def test_fast_path_chunks_and_early_stops_match(hostile, generic, monkeypatch, export_format):
    monkeypatch.setattr(export_formats, "CHUNK_BYTES", 300)
    monkeypatch.setattr(export, "YIELD_PER", 3)
    expected = generic(run, export_format)
    assert run(export_format) == expected  # the same chunks, not only the same bytes
    assert_audited_alike()
    assert len(expected) > 5
    for take in (1, 2, len(expected) // 2, len(expected) - 1):
        generic(run, export_format, take=take)
        assert run(export_format, take=take) == expected[:take]
        recorded = assert_audited_alike()
        assert recorded["completed"] is False and recorded["rows"] > 0
    # A chunk limit the first row reaches exactly: both paths hand that chunk on at once.
    monkeypatch.setattr(export_formats, "CHUNK_BYTES", 1)
    first = generic(run, export_format)[0]  # the head and the first row
    monkeypatch.setattr(export_formats, "CHUNK_BYTES", len(first.decode()))
    expected = generic(run, export_format)
    assert expected[0] == first
    assert run(export_format) == expected


def test_an_export_never_started_records_nothing_on_the_fast_path(hostile, keys):
    stream_export(db.session, keys, audit.CLI, ExportFormat.CSV, ExportFilters(), EVERYTHING).close()
    assert export_events() == []


@pytest.mark.parametrize("export_format", list(ExportFormat))
def test_a_row_no_key_opens_fails_both_paths_alike(insert, generic, monkeypatch, keys, export_format):
    monkeypatch.setattr(export_formats, "CHUNK_BYTES", 1)  # a chunk a row
    for _ in range(3):
        insert()
    broken = insert()
    insert()
    other_key = Fernet(Fernet.generate_key())
    db.session.execute(
        Signature.__table__.update().where(Signature.id == broken).values(email_encrypted=other_key.encrypt(b"x"))
    )
    db.session.commit()

    def until_it_fails() -> list[bytes]:
        received: list[bytes] = []
        with pytest.raises(InvalidToken):
            received.extend(stream_export(db.session, keys, audit.CLI, export_format, ExportFilters(), EVERYTHING))
        return received

    expected = generic(until_it_fails)
    assert until_it_fails() == expected and len(expected) == 3
    recorded = assert_audited_alike()
    assert (recorded["rows"], recorded["completed"]) == (3, False)


def test_the_session_stays_usable_while_a_fast_export_is_pending(insert, keys, monkeypatch):
    monkeypatch.setattr(export_formats, "CHUNK_BYTES", 1)  # a chunk a row
    for _ in range(5):
        insert()
    chunks = stream_export(db.session, keys, audit.CLI, ExportFormat.CSV, ExportFilters(), EVERYTHING)
    next(chunks)
    assert db.session.execute(select(AuditEvent)).first() is None  # the rows stream on a connection of their own
    chunks.close()
    assert [recorded["rows"] for recorded in export_events()] == [1]
