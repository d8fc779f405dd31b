"""Exports: confirmed signers only, filters, union scoping, spreadsheet safety, OSDI shape, audit, CLI."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import secrets
from datetime import UTC, date, datetime

import pytest
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, Organiser, OrganiserRole, Signature, SignatureStatus
from app.services import audit, export, export_formats
from app.services.export import (
    CSV_HEADER,
    ExportFilters,
    ExportFormat,
    ExportScope,
    UnknownFilter,
    stream_export,
)

BOM = b"\xef\xbb\xbf"
EVERYTHING = ExportScope.everything()
MARCH_10 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def add(app, keys, sector_id, org_id):
    """Insert a signature row as the signing service would leave it; returns its id."""
    numbers = itertools.count(1)

    def add(
        name: str = "Ada Lovelace",
        email: str | None = None,
        sector: str = "education",
        org: str | None = None,
        status: SignatureStatus = SignatureStatus.CONFIRMED,
        confirmed_at: datetime = MARCH_10,
        share: bool = False,
        updates: bool = False,
        source: str | None = None,
        postcode: str | None = None,
        anonymised: bool = False,
    ) -> int:
        email = email or f"signer{next(numbers)}@example.com"
        signature = Signature(
            email_key=keys.cipher.blind_index(email),
            email_domain_key=keys.cipher.domain_index(email.rpartition("@")[2]),
            email_encrypted=None if anonymised else keys.cipher.encrypt(email),
            name_encrypted=None if anonymised else keys.cipher.encrypt(name),
            anonymised_at=confirmed_at if anonymised else None,
            sector_id=sector_id(sector),
            organisation_id=org_id(org) if org else None,
            postcode_outward=postcode,
            source=source,
            consent_updates=updates,
            consent_share_union=share,
            wording_version="2026-01",
            status=status,
            held_reason="honeypot" if status is SignatureStatus.HELD else None,
            invalid_reason="spam" if status is SignatureStatus.INVALID else None,
            token_nonce=secrets.token_bytes(16),
            created_at=confirmed_at,
            consents_updated_at=confirmed_at,
            confirmed_at=confirmed_at if status is SignatureStatus.CONFIRMED else None,
        )
        db.session.add(signature)
        db.session.commit()
        return signature.id

    return add


def run_export(
    export_format: ExportFormat = ExportFormat.CSV,
    filters: ExportFilters | None = None,
    scope: ExportScope = EVERYTHING,
    actor: audit.Actor = audit.CLI,
) -> bytes:
    from app.extensions import keys

    return b"".join(stream_export(db.session, keys(), actor, export_format, filters or ExportFilters(), scope))


def csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(BOM)
    return list(csv.DictReader(io.StringIO(data[len(BOM) :].decode("utf-8"), newline="")))


def exported_emails(filters: ExportFilters | None = None, scope: ExportScope = EVERYTHING) -> list[str]:
    return [row["email"] for row in csv_rows(run_export(filters=filters, scope=scope))]


def osdi_emails(filters: ExportFilters | None = None, scope: ExportScope = EVERYTHING) -> list[str]:
    document = json.loads(run_export(ExportFormat.OSDI, filters, scope))
    return [p["email_addresses"][0]["address"] for p in document["_embedded"]["osdi:people"]]


def export_events() -> list[AuditEvent]:
    return (
        db.session.execute(select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id))
        .scalars()
        .all()
    )


def make_organiser(org_id, role: OrganiserRole, union: str | None) -> Organiser:
    organiser = Organiser(
        email=f"{role.value}-{union or 'all'}@example.org",
        role=role,
        organisation_id=org_id(union) if union else None,
        session_nonce=secrets.token_hex(16),
    )
    db.session.add(organiser)
    db.session.commit()
    return organiser


# CSV format


def test_empty_csv_is_bom_and_exact_header(app):
    assert run_export() == BOM + b"name,email,sector,union,postcode_area,region,source,consent_updates," + (
        b"consent_share_union,signed_at_utc,confirmed_at_utc,wording_version,verified_work_email,verified_at_utc\r\n"
    )


def test_csv_row_holds_what_organisers_need(add):
    add(
        name="Ada Lovelace", email="ada@example.com", sector="health", org="unison", share=True, updates=True,
        source="newsletter", postcode="SW1A",
        confirmed_at=datetime(2026, 3, 10, 12, 30, 5, tzinfo=UTC),
    )  # fmt: skip
    data = run_export()
    assert data.split(b"\r\n")[0] == BOM + ",".join(CSV_HEADER).encode()
    assert csv_rows(data) == [
        {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "sector": "health",
            "union": "unison",
            "postcode_area": "SW1A",
            "region": "london",
            "source": "newsletter",
            "consent_updates": "yes",
            "consent_share_union": "yes",
            "signed_at_utc": "2026-03-10 12:30:05",
            "confirmed_at_utc": "2026-03-10 12:30:05",
            "wording_version": "2026-01",
            "verified_work_email": "no",
            "verified_at_utc": "",
        }
    ]


def test_signature_made_through_the_signing_service_exports(make_signature, confirm, org_id):
    signature = make_signature(name="Grace Hopper", email=" Grace@Example.COM ", union="neu")
    assert exported_emails() == []  # pending until confirmed
    confirm(signature, share_union=True)  # sharing is agreed on confirming, by the mailbox holder
    [row] = csv_rows(run_export(scope=ExportScope(org_id("neu"))))
    assert (row["name"], row["sector"], row["union"], row["consent_updates"]) == (
        "Grace Hopper",
        "education",
        "neu",
        "no",
    )
    assert row["email"].lower() == "grace@example.com"


def test_only_confirmed_signatures_with_personal_data_are_exported(add):
    add(email="confirmed@example.com")
    add(email="pending@example.com", status=SignatureStatus.PENDING)
    add(email="held@example.com", status=SignatureStatus.HELD)
    add(email="invalid@example.com", status=SignatureStatus.INVALID)
    add(email="anonymised@example.com", anonymised=True)
    assert exported_emails() == ["confirmed@example.com"]
    assert osdi_emails() == ["confirmed@example.com"]


@pytest.mark.parametrize(
    "name, expected",
    [
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("-1", "'-1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ann = Bob", "Ann = Bob"),
        ("Jean-Luc Picard", "Jean-Luc Picard"),
        # Full-width look-alikes, which some spreadsheets fold into = + - @
        ("\uff1dHYPERLINK(1)", "'\uff1dHYPERLINK(1)"),
        ("\uff0b44 20", "'\uff0b44 20"),
        ("\uff0d1", "'\uff0d1"),
        ("\uff20SUM(A1)", "'\uff20SUM(A1)"),
        # Invisible format characters (Unicode category Cf) in front of a formula sign
        ("\u200b=1+1", "'\u200b=1+1"),
        ("\u2060\ufeff@SUM(A1)", "'\u2060\ufeff@SUM(A1)"),
        ("\u202e-1", "'\u202e-1"),
        ("\u200bAnn", "\u200bAnn"),
    ],
)
def test_formula_cells_are_neutralised(add, name, expected):
    add(name=name, source="=cmd|' /C calc'!A0", email="-x@example.com")
    [row] = csv_rows(run_export())
    assert row["name"] == expected
    assert row["source"] == "'=cmd|' /C calc'!A0"
    assert row["email"] == "'-x@example.com"


def test_osdi_keeps_values_as_given(add):
    add(name="=HYPERLINK(1)", email="-x@example.com")
    document = json.loads(run_export(ExportFormat.OSDI))
    [person] = document["_embedded"]["osdi:people"]
    assert person["email_addresses"][0]["address"] == "-x@example.com"
    assert person["given_name"] == "=HYPERLINK(1)"


def test_non_ascii_names_survive(add):
    names = ["Zoë Ní Bhriain", "Łukasz Żółć", "Çağrı Öztürk", "王秀英", "Siân 👩🏽‍🏫 Jones"]
    for name in names:
        add(name=name)
    assert [row["name"] for row in csv_rows(run_export())] == names
    people = json.loads(run_export(ExportFormat.OSDI))["_embedded"]["osdi:people"]
    assert [" ".join(filter(None, [p["given_name"], p.get("family_name")])) for p in people] == names


def test_csv_is_chunked_not_one_write_per_row_nor_all_at_once(add, monkeypatch, keys):
    monkeypatch.setattr(export_formats, "CHUNK_BYTES", 2000)
    monkeypatch.setattr(export, "YIELD_PER", 7)
    for _ in range(120):
        add(name="A Fairly Ordinary Name")
    chunks = list(stream_export(db.session, keys, audit.CLI, ExportFormat.CSV, ExportFilters(), EVERYTHING))
    assert 3 < len(chunks) < 120
    assert all(len(chunk) < 2200 for chunk in chunks)
    assert len(csv_rows(b"".join(chunks))) == 120


# Filters


@pytest.fixture
def population(add):
    add(email="edu@example.com", sector="education")
    add(email="edu-neu@example.com", sector="education", org="neu", share=True, updates=True, source="neu-mail")
    add(email="health-unison@example.com", sector="health", org="unison", updates=True, source="neu-mail")
    add(email="health@example.com", sector="health", source="twitter", confirmed_at=datetime(2026, 3, 11, tzinfo=UTC))
    add(
        email="police@example.com",
        sector="policing",
        updates=True,
        confirmed_at=datetime(2026, 3, 9, 23, 59, 59, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    "filters, expected",
    [
        (ExportFilters(), ["edu", "edu-neu", "health-unison", "health", "police"]),
        (ExportFilters(sector="health"), ["health-unison", "health"]),
        (ExportFilters(org="neu"), ["edu-neu"]),
        (ExportFilters(org="unison"), ["health-unison"]),
        (ExportFilters(org="rcn"), []),
        (ExportFilters(source="neu-mail"), ["edu-neu", "health-unison"]),
        (ExportFilters(source="nowhere"), []),
        (ExportFilters(consent_updates=True), ["edu-neu", "health-unison", "police"]),
        (ExportFilters(consent_updates=False), ["edu", "health"]),
        (ExportFilters(confirmed_from=date(2026, 3, 10)), ["edu", "edu-neu", "health-unison", "health"]),
        (ExportFilters(confirmed_to=date(2026, 3, 10)), ["edu", "edu-neu", "health-unison", "police"]),
        (
            ExportFilters(confirmed_from=date(2026, 3, 10), confirmed_to=date(2026, 3, 10)),
            ["edu", "edu-neu", "health-unison"],
        ),
        (ExportFilters(confirmed_from=date(2026, 3, 11), confirmed_to=date(2026, 3, 9)), []),
        (ExportFilters(sector="health", consent_updates=True), ["health-unison"]),
        (ExportFilters(sector="education", source="neu-mail", org="neu"), ["edu-neu"]),
        (ExportFilters(sector="education", org="unison"), []),
        (ExportFilters(source="neu-mail", confirmed_to=date(2026, 3, 9)), []),
    ],
)
def test_filters_narrow_the_export(population, filters, expected):
    emails = [f"{local}@example.com" for local in expected]
    assert exported_emails(filters) == emails
    assert osdi_emails(filters) == emails


@pytest.mark.parametrize(
    "filters, message",
    [(ExportFilters(sector="nursing"), "Unknown sector"), (ExportFilters(org="bogus"), "Unknown organisation")],
)
def test_unknown_slugs_are_refused_before_streaming_starts(app, keys, filters, message):
    with pytest.raises(UnknownFilter, match=message):
        stream_export(db.session, keys, audit.CLI, ExportFormat.CSV, filters, EVERYTHING)  # no iteration needed
    assert export_events() == []


# Union scoping


@pytest.fixture
def unions(add, org_id):
    add(email="neu-shared@example.com", org="neu", share=True, updates=True, source="neu-mail")
    add(email="neu-private@example.com", org="neu", share=False, updates=True, source="neu-mail")
    add(email="unison-shared@example.com", sector="health", org="unison", share=True, updates=True, source="neu-mail")
    add(email="no-union@example.com", updates=True, source="neu-mail")
    return ExportScope(org_id("neu"))


@pytest.mark.parametrize(
    "filters",
    [
        ExportFilters(),
        ExportFilters(org="unison"),
        ExportFilters(org="neu"),
        ExportFilters(sector="health"),
        ExportFilters(sector="education"),
        ExportFilters(source="neu-mail"),
        ExportFilters(consent_updates=True),
        ExportFilters(consent_updates=False),
        ExportFilters(confirmed_from=date(2000, 1, 1), confirmed_to=date(2100, 1, 1)),
        ExportFilters(sector="health", org="unison", source="neu-mail", consent_updates=True),
    ],
)
def test_a_union_scope_never_yields_other_unions_or_unconsented_members(unions, filters):
    allowed = {"neu-shared@example.com"}
    assert set(exported_emails(filters, unions)) <= allowed
    assert set(osdi_emails(filters, unions)) <= allowed


def test_a_union_scope_yields_its_consenting_members(unions):
    assert exported_emails(scope=unions) == ["neu-shared@example.com"]
    assert exported_emails(ExportFilters(org="unison"), unions) == []
    assert osdi_emails(scope=unions) == ["neu-shared@example.com"]


def test_scope_of_an_account(unions, org_id):
    neu_organiser = make_organiser(org_id, OrganiserRole.ORGANISER, "neu")
    admin = make_organiser(org_id, OrganiserRole.ADMIN, None)
    assert ExportScope.of(neu_organiser) == ExportScope(org_id("neu"))
    assert ExportScope.of(admin) == EVERYTHING
    assert exported_emails(scope=ExportScope.of(neu_organiser)) == ["neu-shared@example.com"]
    assert len(exported_emails(scope=ExportScope.of(admin))) == 4
    with pytest.raises(ValueError, match="no union"):  # never widened to everything
        ExportScope.of(Organiser(email="x@example.org", role=OrganiserRole.ORGANISER, organisation_id=None))


# OSDI


def test_osdi_document_shape_and_statuses(add):
    subscribed = add(
        name="Mary Ann de la Cruz", email="mary@example.com", org="neu", share=True, updates=True, source="neu-mail",
        postcode="M1", confirmed_at=datetime(2026, 3, 10, 9, 0, tzinfo=UTC),
    )  # fmt: skip
    add(name="Cher", email="cher@example.com", sector="health")
    document = json.loads(run_export(ExportFormat.OSDI))
    assert set(document) == {"_embedded", "total_records", "page", "total_pages"}
    assert document["total_records"] == 2
    first, second = document["_embedded"]["osdi:people"]
    assert first == {
        "identifiers": [f"care-dont-share:{subscribed}"],
        "origin_system": "Care Don't Share",
        "given_name": "Mary Ann de la",
        "family_name": "Cruz",
        "email_addresses": [{"address": "mary@example.com", "primary": True, "status": "subscribed"}],
        "postal_addresses": [{"postal_code": "M1", "country": "GB", "primary": True}],
        "custom_fields": {
            "sector": "education",
            "union": "neu",
            "region": "north-west",
            "consent_share_union": True,
            "wording_version": "2026-01",
            "verified_work_email": False,
            "verified_at": None,
        },
        "created_date": "2026-03-10T09:00:00+00:00",
        "modified_date": "2026-03-10T09:00:00+00:00",
        "referrer_data": {"source": "neu-mail", "referrer": "neu"},
    }
    assert second["given_name"] == "Cher" and "family_name" not in second
    assert second["email_addresses"][0]["status"] == "unsubscribed"
    assert "postal_addresses" not in second
    assert second["referrer_data"] == {"source": None, "referrer": None}


def test_empty_osdi_document_is_valid_json(app):
    assert json.loads(run_export(ExportFormat.OSDI)) == {
        "_embedded": {"osdi:people": []},
        "total_records": 0,
        "page": 1,
        "total_pages": 1,
    }


def test_large_osdi_document_streams_in_chunks_and_parses(add, monkeypatch, keys):
    monkeypatch.setattr(export_formats, "CHUNK_BYTES", 1500)
    monkeypatch.setattr(export, "YIELD_PER", 4)
    for _ in range(60):
        add()
    chunks = list(stream_export(db.session, keys, audit.CLI, ExportFormat.OSDI, ExportFilters(), EVERYTHING))
    assert len(chunks) > 3
    document = json.loads(b"".join(chunks))
    assert document["total_records"] == len(document["_embedded"]["osdi:people"]) == 60


# Audit


def test_every_export_is_audited_with_who_filters_scope_and_rows(unions, org_id):
    organiser = make_organiser(org_id, OrganiserRole.ORGANISER, "neu")
    run_export(
        ExportFormat.OSDI,
        ExportFilters(source="neu-mail", consent_updates=True, confirmed_to=date(2100, 1, 1)),
        ExportScope.of(organiser),
        audit.Actor.of(organiser),
    )
    run_export(filters=ExportFilters(sector="health"))
    first, second = export_events()
    assert (first.actor, first.actor_id) == ("organiser-neu@example.org", organiser.id)
    assert json.loads(first.details) == {
        "format": "osdi",
        "filters": {"source": "neu-mail", "consent_updates": True, "confirmed_to": "2100-01-01"},
        "scope": {"organisation_id": org_id("neu"), "only": "consent_share_union"},
        "rows": 1,
        "completed": True,
    }
    assert (second.actor, second.actor_id) == ("cli", None)
    assert json.loads(second.details) == {
        "format": "csv",
        "filters": {"sector": "health"},
        "scope": {"organisation_id": None},
        "rows": 1,
        "completed": True,
    }
    assert "@example.com" not in first.details + second.details


def test_an_export_closed_early_is_audited_with_the_rows_handed_over(add, monkeypatch, keys):
    monkeypatch.setattr(export_formats, "CHUNK_BYTES", 1)  # one row per chunk
    monkeypatch.setattr(export, "YIELD_PER", 2)
    for _ in range(10):
        add()
    chunks = stream_export(db.session, keys, audit.CLI, ExportFormat.CSV, ExportFilters(), EVERYTHING)
    next(chunks)
    next(chunks)
    assert export_events() == []
    chunks.close()
    [event] = export_events()
    assert json.loads(event.details)["rows"] == 2
    assert json.loads(event.details)["completed"] is False


def test_a_stream_never_started_records_nothing(add, keys):
    add()
    stream_export(db.session, keys, audit.CLI, ExportFormat.CSV, ExportFilters(), EVERYTHING).close()
    assert export_events() == []


def test_an_export_that_fails_midway_is_audited(add, keys):
    add(email="fine@example.com")
    broken = add(email="broken@example.com")
    other_key = Fernet(Fernet.generate_key())
    db.session.execute(
        Signature.__table__.update().where(Signature.id == broken).values(name_encrypted=other_key.encrypt(b"x"))
    )
    db.session.commit()
    with pytest.raises(InvalidToken):
        run_export()
    [event] = export_events()
    assert json.loads(event.details)["rows"] == 1
    assert json.loads(event.details)["completed"] is False


# CLI


def test_cli_writes_the_same_csv_as_the_service_and_is_audited(population, runner, tmp_path):
    output = tmp_path / "out.csv"
    result = runner.invoke(args=["export", "csv", "--sector", "health", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_bytes() == run_export(filters=ExportFilters(sector="health"))
    assert oct(os.stat(output).st_mode & 0o777) == "0o600"
    cli_event, service_event = export_events()
    assert cli_event.actor == "cli"
    assert json.loads(cli_event.details) == json.loads(service_event.details)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("export_format", ["csv", "osdi"])
def test_cli_shows_a_progress_bar_of_rows_on_a_terminal_and_nothing_when_piped(
    population, runner, monkeypatch, tmp_path, export_format
):
    piped = runner.invoke(args=["export", export_format, "--output", str(tmp_path / "piped")])
    assert piped.exit_code == 0 and "Exporting" not in piped.output
    terminal = Terminal()
    monkeypatch.setattr("app.cli.export._terminal", lambda: terminal)
    result = runner.invoke(args=["export", export_format, "--output", str(tmp_path / "shown")])
    assert result.exit_code == 0, result.output
    rows = len(csv_rows(run_export()))
    assert rows > 1 and "Exporting" in terminal.getvalue() and f"{rows}/{rows}" in terminal.getvalue()
    assert (tmp_path / "shown").read_bytes() == (tmp_path / "piped").read_bytes()


def test_cli_writes_to_standard_output_with_every_filter(population, runner):
    args = ["--sector", "education", "--org", "neu", "--source", "neu-mail", "--from", "2026-03-10", "--to",
            "2026-03-10", "--consent-updates"]  # fmt: skip
    result = runner.invoke(args=["export", "csv", *args])
    assert result.exit_code == 0, result.output
    assert [row["email"] for row in csv_rows(result.stdout_bytes)] == ["edu-neu@example.com"]
    assert json.loads(export_events()[0].details)["filters"] == {
        "sector": "education",
        "org": "neu",
        "source": "neu-mail",
        "confirmed_from": "2026-03-10",
        "confirmed_to": "2026-03-10",
        "consent_updates": True,
    }
    result = runner.invoke(args=["export", "csv", "--no-consent-updates"])
    assert [row["email"] for row in csv_rows(result.stdout_bytes)] == ["edu@example.com", "health@example.com"]


def test_cli_osdi_and_union_scope(unions, runner):
    result = runner.invoke(args=["export", "osdi", "--scope-org", "neu", "--org", "unison"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout_bytes)["total_records"] == 0
    result = runner.invoke(args=["export", "osdi", "--scope-org", "neu"])
    people = json.loads(result.stdout_bytes)["_embedded"]["osdi:people"]
    assert [p["email_addresses"][0]["address"] for p in people] == ["neu-shared@example.com"]
    assert json.loads(export_events()[-1].details)["scope"]["organisation_id"] is not None


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2026-13-01"], "Invalid value for '--from'"),
        (["--to", "10/03/2026"], "Invalid value for '--to'"),
        (["--from", "2026-03-11", "--to", "2026-03-10"], "Invalid value for '--to'"),
        (["--sector", "nursing"], "Unknown sector 'nursing'"),
        (["--org", "bogus"], "Unknown organisation 'bogus'"),
        (["--scope-org", "bogus"], "Invalid value for '--scope-org'"),
    ],
)
def test_cli_bad_filters_are_errors_not_tracebacks(app, runner, tmp_path, args, message):
    output = tmp_path / "out.csv"
    result = runner.invoke(args=["export", "csv", *args, "--output", str(output)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    assert not output.exists()
    assert export_events() == []
