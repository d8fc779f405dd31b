"""Paper forms typed up as CSV: a preview in the web form's words, then normal pending sign-ups."""

import io
import json
import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, OutboxMessage, PaperImport, Signature, SignatureStatus
from app.services import paper_import
from tests.forms import csrf_token

GOOD = [
    "Ada Lovelace,ada@example.com,education,neu,SW1A 1AA",
    "Grace Hopper,grace@example.com,Health,,",
    "Already Signed,signed@example.com,education,,",
]
DUPLICATE = ["ADA LOVELACE,Ada@Example.COM,education,neu,"]
MALFORMED = [
    "Bob,not-an-email,education,,",
    "Carol,carol@example.com,astronomy,,",
    "Dan,dan@example.com,education,martians,",
    "Eve,eve@example.com,education,,ZZ",
    ",fred@example.com,education,,",
    "Gus,gus@example.com,education,,,one cell too many",
]
HOSTILE = [
    '"=HYPERLINK(""http://evil.example"",""x"")",h1@example.com,education,,',
    "+44 7700 900000,h2@example.com,education,,",
    "<script>alert(1)</script>,h3@example.com,education,,",
    "Visit evil.com today,h4@example.com,education,,",
    "x" * 5000 + ",h5@example.com,education,,",
    "Ivy\x07,ivy@example.com,education,,",
]
BAD_ENCODING = b"Zo\xe9 Smith,zoe@example.com,education,,"


def csv_file(*rows: str, extra: bytes = b"") -> bytes:
    return ("\ufeffName,Email,Sector,Union,Postcode\r\n" + "\r\n".join(rows) + "\r\n").encode() + extra


MIXED = csv_file(*GOOD, *DUPLICATE, *MALFORMED, *HOSTILE, extra=BAD_ENCODING + b"\r\n")


@pytest.fixture
def admin(client, make_account, sign_in):
    account = make_account()
    sign_in(account)
    return account


@pytest.fixture
def rep(client, make_account, sign_in):
    account = make_account("rep@neu.example", role="organiser", org="neu")
    sign_in(account)
    return account


def upload(client, data: bytes, event="Leeds branch meeting", filename="forms.csv"):
    token = csrf_token(client.get("/organiser/paper/import").get_data(as_text=True))
    return client.post(
        "/organiser/paper/import",
        data={"csrf_token": token, "event_name": event, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def start_fields(preview_html: str) -> dict:
    text = re.search(r'<textarea name="text" hidden>(.*?)</textarea>', preview_html, re.S).group(1)
    from html import unescape

    tag = re.search(r'<input[^>]*name="event_name"[^>]*>', preview_html).group(0)
    event = re.search(r'value="([^"]*)"', tag).group(1)
    return {"csrf_token": csrf_token(preview_html), "event_name": unescape(event), "text": unescape(text)}


def preview_rows(html: str) -> dict[int, str]:
    """Line number -> the row's "what will happen" cell, as text."""
    rows = {}
    for row in re.findall(r'<tr class="paper-row[^"]*">(.*?)</tr>', html, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        rows[int(cells[0])] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", cells[-1])).strip()
    return rows


def signatures():
    return db.session.execute(select(Signature).order_by(Signature.id)).scalars().all()


def test_the_preview_says_row_by_row_what_will_happen_in_the_web_forms_words(client, admin, make_signature):
    response = upload(client, MIXED)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    rows = preview_rows(html)
    assert rows[2] == rows[3] == rows[4] == "Will be sent a confirmation email"
    assert rows[5] == "Skipped: the same email as line 2"
    assert "Email: Enter an email address in the correct format, like name@example.com." in rows[6]
    assert "Sector: Choose a sector: education, health, policing, local-services, public." in rows[7]
    assert "Union: Choose your union from the list." in rows[8]
    assert "Postcode: Enter a full UK postcode, like SW1A 1AA, or leave it blank." in rows[9]
    assert "Name: Enter your name." in rows[10]
    assert "more cells than the header" in rows[11]
    assert "not a spreadsheet formula" in rows[12] and "not a spreadsheet formula" in rows[13]
    assert rows[14] == "Will be sent a confirmation email"  # as on the web; shown escaped, below
    assert "Name: Enter your name without a web address." in rows[15]
    assert "Name: Your name must be 100 characters or fewer." in rows[16]
    assert "Name: Remove the hidden or control characters from this answer." in rows[17]
    assert "not UTF-8 text" in rows[18]
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    table = html.split('<table class="paper-preview">')[1].split("</table>")[0]
    assert "x" * 59 + "…" in table and "x" * 60 not in table  # long cells are shortened in the preview
    assert "4 of 17 rows will be signed up" in html
    assert signatures() == []  # a preview stores nothing
    assert db.session.execute(select(func.count()).select_from(PaperImport)).scalar() == 0


def test_importing_queues_normal_confirmations_and_counts_nobody_until_they_confirm(
    app, client, admin, make_signature, confirm_via_page, mailbox
):
    make_signature(email="signed@example.com", status=SignatureStatus.CONFIRMED)
    before = client.get("/api/v1/counts").get_json()["total"]
    outbox_before = db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar()
    preview = upload(client, MIXED).get_data(as_text=True)
    response = client.post("/organiser/paper/imports", data=start_fields(preview))
    assert response.status_code == 303
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="17"' in result and "4 signed up" in result and "1 skipped as repeats" in result
    assert "12 skipped with errors" in result

    new = [s for s in signatures() if s.status == SignatureStatus.PENDING]
    assert len(new) == 3  # Ada, Grace and the <script> name; the signed-up address stays confirmed
    assert {s.source for s in new} == {"paper:leeds-branch-meeting"}
    assert not any(s.consent_updates or s.consent_share_union for s in new)
    ada = next(s for s in new if s.postcode_outward == "SW1A")
    assert ada.organisation.slug == "neu"
    kinds = db.session.execute(select(OutboxMessage.kind).order_by(OutboxMessage.id)).scalars().all()
    assert kinds[outbox_before:].count("confirm") == 3 and kinds[outbox_before:].count("already_signed") == 1
    assert all(m.sent_at is None for m in db.session.execute(select(OutboxMessage)).scalars())  # queued only
    assert client.get("/api/v1/counts").get_json()["total"] == before

    mailbox.deliver()
    link = next(mailbox.link(m, "confirm") for m in mailbox.messages() if "ada@example.com" in m["To"])
    confirm_via_page(link)
    assert client.get("/api/v1/counts").get_json()["total"] == before + 1

    started, finished = (
        json.loads(e.details)
        for e in db.session.execute(
            select(AuditEvent).where(AuditEvent.action.like("paper.import_%")).order_by(AuditEvent.id)
        ).scalars()
    )
    assert started["rows"] == 17 and started["source"] == "paper:leeds-branch-meeting"
    assert finished == {"import_id": started["import_id"], "queued": 4, "duplicates": 1, "errors": 12}
    details = " ".join(e.details for e in db.session.execute(select(AuditEvent)).scalars())
    assert "@example.com" not in details and "Lovelace" not in details


def test_the_page_script_imports_in_batches_and_a_repeated_batch_signs_nobody_twice(app, client, rep, monkeypatch):
    monkeypatch.setattr(paper_import, "BATCH_ROWS", 2)
    rows = [f"Person {i},p{i}@example.com,education,,LS1 1AA" for i in range(5)] + [
        "Unison,u@example.com,health,unison,"
    ]
    preview = upload(client, csv_file(*rows)).get_data(as_text=True)
    assert "You can import only NEU members: leave union blank." in preview
    fields = start_fields(preview)
    started = client.post("/organiser/paper/imports", data=fields, headers={"Accept": "application/json"})
    progress = started.get_json()
    assert started.status_code == 200 and progress["total"] == 6 and progress["processed"] == 0
    seen = []
    while not progress["finished"]:
        batch = {"csrf_token": fields["csrf_token"], "text": fields["text"]}
        progress = client.post(progress["batch_url"], data=batch, headers={"Accept": "application/json"}).get_json()
        seen.append(progress["processed"])
    assert seen == [2, 4, 6] and progress["queued"] == 5 and progress["errors"] == 1
    again = client.post(progress["batch_url"], data=batch, headers={"Accept": "application/json"}).get_json()
    assert again["processed"] == 6
    assert len(signatures()) == 5
    assert {s.organisation.slug for s in signatures()} == {"neu"}
    assert db.session.execute(select(func.count()).select_from(OutboxMessage)).scalar() == 5
    altered = {"csrf_token": fields["csrf_token"], "text": fields["text"] + "Extra,x@example.com,education,,\n"}
    refused = client.post(progress["batch_url"], data=altered, headers={"Accept": "application/json"})
    assert refused.status_code == 400 and "not the file that was previewed" in refused.get_json()["error"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"first,last\nAda,Lovelace\n", "Missing: name, email, sector."),
        (csv_file(*[f"P{i},p{i}@example.com,education,," for i in range(501)]), "at most 500 at a time"),
        (b"name,email,sector\n" + b"a" * (300 * 1024), "larger than 256 KB"),
        (b"name,email,sector,email\nA,a@example.com,education,b@example.com\n", "each once"),
    ],
)
def test_a_file_that_cannot_be_imported_gets_a_400_with_a_message(client, admin, data, message):
    response = upload(client, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_file_over_the_upload_limit_is_refused_not_crashed(client, admin):
    response = upload(client, b"name,email,sector\n" + b"a" * (2 * 1024 * 1024))
    assert response.status_code == 413


def test_union_organisers_see_only_their_own_imports(client, admin, make_account, sign_in):
    preview = upload(client, csv_file(*GOOD[:1])).get_data(as_text=True)
    location = client.post("/organiser/paper/imports", data=start_fields(preview)).headers["Location"]
    sign_in(make_account("rep@neu.example", role="organiser", org="neu"))
    assert client.get(location).status_code == 404


def test_the_source_is_paper_and_the_events_name_as_a_slug():
    assert paper_import.source_for("Leeds Branch Meeting, 30 Nov!") == "paper:leeds-branch-meeting-30-nov"
    assert paper_import.source_for("!!!") == "paper:event"
    assert len(paper_import.source_for("x" * 80)) == 64
