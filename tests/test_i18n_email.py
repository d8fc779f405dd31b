"""Email in the signer's language (issue 15): a Welsh sign-up's mail, delivered by the worker to a real
SMTP server (aiosmtpd on loopback), is Welsh throughout with /cy/ links, an English one's unchanged;
updates go in the signer's language where a version was written, else in English in a Welsh frame;
organisers write those versions on the updates pages, which are bilingual too."""

from __future__ import annotations

import re
import subprocess
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from app import content_loader
from app.extensions import db
from app.mail_render import build_message
from app.models import CampaignUpdate, CampaignUpdateText, OutboxMessage, Signature
from app.services import audit, organisers, updates
from app.services.normalise import canonical_email
from app.services.updates import Audience
from app.services.work_verification import load_rules, offer_token, request_verification
from tests.forms import csrf_token
from tests.test_email_quality import nu_html_checker
from tests.test_i18n import SAME_IN_BOTH, sentences
from tests.test_mail import Collector, deliver, free_port, start_server
from tests.test_reminders import send_reminders, signed_ago

ADMIN = audit.Actor(None, "cli")
URL = re.compile(r"https?://\S+")


@pytest.fixture
def smtp(app):
    """A real SMTP server on a free loopback port, the app's mail pointed at it; yields what it received."""
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT_SECONDS=2)
    collector = Collector()
    server = start_server(port, collector)
    yield collector
    server.stop()


def delivered(app, smtp) -> list[EmailMessage]:
    """Run the worker once, then everything the server has received so far, as a mail client parses it."""
    deliver(app)
    return [message_from_bytes(raw, policy=policy.default) for raw in smtp.messages]


def plain(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # SMTP's line ends


def html(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content().replace("\r\n", "\n")


def english_left(welsh: EmailMessage, english: EmailMessage) -> list[str]:
    """The English email's sentences (links aside) that are in the Welsh one, subject included."""
    english_sentences = sentences(URL.sub(" ", plain(english))) | sentences(html(english)) | {english["Subject"]}
    welsh_words = " ".join(
        [welsh["Subject"], " ".join(sentences(URL.sub(" ", plain(welsh)))), " ".join(sentences(html(welsh)))]
    )
    return sorted(s for s in english_sentences if s in welsh_words and s.rstrip(":.") not in SAME_IN_BOTH)


def as_english(row: OutboxMessage, keys) -> EmailMessage:
    """The same queued message rendered for a signer whose language is English (nothing is saved)."""
    signature = row.signature
    signature.language = "en"
    try:
        return message_from_bytes(build_message(row, keys).data, policy=policy.default)
    finally:
        signature.language = "cy"
        db.session.rollback()


def signature_of(keys, email: str) -> Signature:
    key = keys.cipher.blind_index(canonical_email(email))
    return db.session.execute(select(Signature).where(Signature.email_key == key)).scalar_one()


def sign_on_page(client, path: str, **fields):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": csrf_token(page.text), **fields})


# The signer's own mail --------------------------------------------------------------------------


def test_a_welsh_sign_up_gets_its_confirmation_in_welsh_and_an_english_one_in_english(
    app, client, keys, smtp, confirm_via_page
):
    welsh = sign_on_page(client, "/cy/sign/education", name="Gwenllian Jones", email="gwen@example.com")
    english = sign_on_page(client, "/sign/education", name="Grace Hopper", email="grace@example.com")
    assert welsh.status_code == 303 and english.status_code == 303
    assert signature_of(keys, "gwen@example.com").language == "cy"
    assert signature_of(keys, "grace@example.com").language == "en"

    received = {message["To"]: message for message in delivered(app, smtp)}
    cy, en = received["gwen@example.com"], received["grace@example.com"]

    assert cy["Subject"] == "Cadarnhewch eich llofnod ar addewid Care Don't Share"
    assert plain(cy).startswith("Helo,\n") and "<p>Helo,</p>" in html(cy)
    assert "Diolch am lofnodi addewid Care Don't Share" in plain(cy)
    assert "Mae'r ddolen yn gweithio am 30 diwrnod." in plain(cy)
    assert re.search(r'^<html lang="cy">', html(cy), re.M)
    assert cy["List-Unsubscribe"].startswith("<http://localhost/cy/manage/")
    links = URL.findall(plain(cy)) + re.findall(r'href="([^"]+)"', html(cy))
    assert links and all(link.startswith("http://localhost/cy/") for link in links), links
    assert english_left(cy, en) == []

    # English is as it always was.
    assert en["Subject"] == "Confirm your signature on the Care Don't Share pledge"
    assert plain(en).startswith("Hello,\n") and "The link works for 30 days." in plain(en)
    assert re.search(r'^<html lang="en-GB">', html(en), re.M)
    assert "/cy/" not in plain(en) + html(en)

    # The Welsh link opens the Welsh confirmation page, and confirming there keeps the language.
    link = re.search(r"http://localhost(/cy/confirm/\S+)", plain(cy)).group(1)
    assert '<html lang="cy"' in client.get(link).text
    assert confirm_via_page(link).status_code == 303
    assert signature_of(keys, "gwen@example.com").language == "cy"


def test_already_signed_reminder_and_work_verification_mail_for_a_welsh_signature_is_welsh(
    app, client, keys, smtp, make_signup, confirm
):
    make_signup(email="sian@example.com", name="Siân Evans", sector="health", language="cy")
    confirm(signature_of(keys, "sian@example.com"))
    make_signup(email="sian@example.com", name="Siân Evans", sector="health", language="cy")  # already signed
    make_signup(email="aros@example.com", name="Aled Aros", language="cy")
    signed_ago(signature_of(keys, "aros@example.com"), hours=49)
    assert send_reminders(app) == 1
    request_verification(
        db.session,
        keys,
        load_rules(content_loader.load_yaml("work_domains")),
        offer_token(keys, signature_of(keys, "sian@example.com")),
        "Sian.Evans@bcuhb-example.wales.nhs.uk",
        max_emails=3,
    )
    kinds = ("already_signed", "reminder", "work_verification")
    rows = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind.in_(kinds))).scalars().all()
    english = {row.kind: as_english(row, keys) for row in rows}  # before sending erases the work address
    assert sorted(english) == sorted(kinds)

    subjects = {
        "already_signed": "Rydych chi eisoes wedi llofnodi addewid Care Don't Share",
        "reminder": "Mae eich llofnod ar addewid Care Don't Share yn aros i chi ei gadarnhau",
        "work_verification": "Cadarnhewch eich cyfeiriad e-bost gwaith ar gyfer addewid Care Don't Share",
    }
    kind_of = {subject: kind for kind, subject in subjects.items()}
    received = {kind_of[m["Subject"]]: m for m in delivered(app, smtp) if m["Subject"] in kind_of}
    assert sorted(received) == sorted(kinds)  # each arrived with its Welsh subject
    assert [received[kind]["To"] for kind in kinds] == [
        "sian@example.com",
        "aros@example.com",
        "Sian.Evans@bcuhb-example.wales.nhs.uk",
    ]

    for kind, message in received.items():
        assert re.search(r'^<html lang="cy">', html(message), re.M), kind
        links = URL.findall(plain(message))
        assert links and all(link.startswith("http://localhost/cy/") for link in links), (kind, links)
        assert english_left(message, english[kind]) == [], kind
        assert plain(english[kind]).startswith("Hello"), kind  # the comparison was with real English

    assert "Mae'r ddolen yn gweithio am 27 diwrnod arall." in plain(received["reminder"])
    assert "/cy/confirm/" in plain(received["reminder"])
    work = plain(received["work_verification"])
    health = content_loader.name_of("sectors", "health", "cy").lower()
    assert f"fel gweithiwr {health}" in work and "Mae'r ddolen yn gweithio am 24 awr." in work
    assert "/cy/work-email/verify/" in work and "/manage/" not in work


def test_organiser_mail_stays_in_the_default_language(app, smtp, make_account):
    admin = make_account()
    organisers.request_password_reset(db.session, admin.email, max_per_hour=3)
    (message,) = delivered(app, smtp)
    assert message["Subject"] == "Set a new password for your Care Don't Share organiser account"
    assert "http://localhost/organiser/" in plain(message) and '<html lang="en-GB">' in html(message)


# Updates ----------------------------------------------------------------------------------------


@pytest.fixture
def readers(keys, make_signup, confirm):
    """A Welsh and an English signer, both confirmed and asking for updates."""
    for email, name, language in (("ffion@example.com", "Ffion", "cy"), ("bob@example.com", "Bob", "en")):
        make_signup(email=email, name=name, language=language)
        confirm(signature_of(keys, email), updates=True)
    return {"cy": "ffion@example.com", "en": "bob@example.com"}


def send_update(app, smtp, translations=None) -> tuple[int, dict[str, EmailMessage]]:
    delivered(app, smtp)  # the confirmation emails first
    before = len(smtp.messages)
    item = updates.save_draft(
        db.session,
        ADMIN,
        subject="News from the campaign",
        body_markdown="We passed **1,000 signatures** this week: thank you.",
        audience=Audience(),
        translations=translations,
    )
    assert updates.queue_update(db.session, ADMIN, item.id) == 2  # the audience is everyone, in any language
    received = delivered(app, smtp)[before:]
    return item.id, {message["To"]: message for message in received}


def test_an_update_with_a_welsh_version_reaches_each_signer_in_their_language(app, client, smtp, readers):
    update_id, received = send_update(
        app,
        smtp,
        {"cy": ("Newyddion gan yr ymgyrch", "Rydyn ni wedi pasio **1,000 o lofnodion** yr wythnos hon: diolch.")},
    )
    cy, en = received[readers["cy"]], received[readers["en"]]

    assert cy["Subject"] == "Newyddion gan yr ymgyrch"
    assert plain(cy).startswith("Helo Ffion,\n\nRydyn ni wedi pasio **1,000 o lofnodion**")
    assert "<strong>1,000 o lofnodion</strong>" in html(cy) and 'lang="en-GB"' not in html(cy)
    assert re.search(r'^<html lang="cy">', html(cy), re.M)
    assert "Peidio â chael diweddariadau" in plain(cy)
    assert cy["List-Unsubscribe"].startswith(f"<http://localhost/cy/updates/{update_id}/unsubscribe/")
    assert english_left(cy, en) == []

    assert en["Subject"] == "News from the campaign"
    assert plain(en).startswith("Hello Bob,\n\nWe passed **1,000 signatures**")
    assert "Stop updates (one click, nothing else changes):" in plain(en)
    assert re.search(r'^<html lang="en-GB">', html(en), re.M) and "/cy/" not in plain(en) + html(en)

    # The Welsh one-click unsubscribe works like the English one.
    url = cy["List-Unsubscribe"].strip("<>").removeprefix("http://localhost")
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert updates.progress(db.session, update_id).unsubscribed == 1


def test_an_update_without_a_welsh_version_reaches_a_welsh_signer_in_english_in_a_welsh_frame(app, smtp, readers):
    update_id, received = send_update(app, smtp)
    cy, en = received[readers["cy"]], received[readers["en"]]

    assert cy["Subject"] == en["Subject"] == "News from the campaign"
    text = plain(cy)
    assert text.startswith("Helo Ffion,\n\nWe passed **1,000 signatures** this week: thank you.")
    assert "Rydych chi'n cael y diweddariad hwn oherwydd i chi ofyn am ddiweddariadau" in text
    assert "Peidio â chael diweddariadau (un clic, does dim byd arall yn newid):" in text
    assert "Stop updates" not in text and "Manage your signature" not in text
    assert f"http://localhost/cy/updates/{update_id}/unsubscribe/" in text and "http://localhost/cy/manage/" in text
    # The English words are marked as English inside the Welsh email.
    assert re.search(r'^<html lang="cy">', html(cy), re.M)
    assert '<div lang="en-GB"><p>We passed <strong>1,000 signatures</strong>' in html(cy)
    assert '<span lang="en-GB">We passed 1,000 signatures' in html(cy)  # the preheader
    assert plain(en).startswith("Hello Bob,") and 'lang="en-GB"><p>' not in html(en)


def test_welsh_email_html_passes_the_nu_html_checker(app, smtp, readers, tmp_path):
    checker = nu_html_checker()  # skips without Java, as the English emails' check does
    _, received = send_update(app, smtp)
    confirmation = next(m for m in delivered(app, smtp) if m["To"] == readers["cy"])
    files = []
    for name, message in (("confirm", confirmation), ("update", received[readers["cy"]])):
        path = tmp_path / f"{name}.cy.html"
        path.write_text(html(message), encoding="utf-8")
        files.append(str(path))
    result = subprocess.run([*checker, "--errors-only", *files], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_saving_a_draft_keeps_one_version_per_language_and_drops_an_emptied_one(app):
    item = updates.save_draft(
        db.session,
        ADMIN,
        subject="News",
        body_markdown="News.",
        audience=Audience(),
        translations={"cy": ("Newyddion", "Newyddion.")},
    )
    updates.save_draft(
        db.session,
        ADMIN,
        update_id=item.id,
        subject="News",
        body_markdown="News.",
        audience=Audience(),
        translations={"cy": ("Newyddion da", "Newyddion da.")},
    )
    texts = db.session.execute(select(CampaignUpdateText)).scalars().all()
    assert [(t.update_id, t.language, t.subject) for t in texts] == [(item.id, "cy", "Newyddion da")]
    updates.save_draft(db.session, ADMIN, update_id=item.id, subject="News", body_markdown="News.", audience=Audience())
    assert len(db.session.execute(select(CampaignUpdateText)).scalars().all()) == 1  # None: left as it was
    updates.save_draft(
        db.session,
        ADMIN,
        update_id=item.id,
        subject="News",
        body_markdown="News.",
        audience=Audience(),
        translations={"cy": ("", "")},
    )
    assert db.session.execute(select(CampaignUpdateText)).scalars().all() == []


# The organiser's pages --------------------------------------------------------------------------


def test_an_admin_writes_a_welsh_version_and_previews_both(app, client, make_account, sign_in, readers):
    sign_in(make_account())
    page = client.get("/organiser/updates")
    assert 'for="subject_cy">Welsh title</label>' in page.text and 'for="body_cy">Welsh text</label>' in page.text
    assert 'id="subject_cy"' in page.text and 'lang="cy"' in page.text
    fields = {"csrf_token": csrf_token(page.text), "subject": "We reached 1,000", "body": "Thank you.", "sector": ""}
    fields["union"] = ""

    half = client.post("/organiser/updates", data={**fields, "subject_cy": "Rydyn ni wedi cyrraedd 1,000"})
    assert half.status_code == 200
    assert "Write the Welsh text too, or leave the Welsh title empty." in half.text
    assert db.session.execute(select(CampaignUpdate)).first() is None

    response = client.post(
        "/organiser/updates",
        data={**fields, "subject_cy": "Rydyn ni wedi cyrraedd 1,000", "body_cy": "Diolch **i chi**."},
    )
    assert response.status_code == 303
    item = db.session.execute(select(CampaignUpdate)).scalar_one()
    assert [(t.language, t.subject, t.body_markdown) for t in item.texts] == [
        ("cy", "Rydyn ni wedi cyrraedd 1,000", "Diolch **i chi**.")
    ]
    detail = client.get(response.headers["Location"])
    assert "2</strong> would get it now" in detail.text  # the audience, whatever their language
    assert "<h3>English</h3>" in detail.text and "<h3>Welsh</h3>" in detail.text
    assert '<div class="panel email-preview" lang="cy"><p>Diolch <strong>i chi</strong>.</p>' in detail.text
    assert 'value="Rydyn ni wedi cyrraedd 1,000"' in detail.text  # the form shows it to change

    # Emptying both Welsh fields removes the version.
    saved = client.post(
        response.headers["Location"],
        data={**fields, "csrf_token": csrf_token(detail.text), "subject_cy": "", "body_cy": ""},
    )
    assert saved.status_code == 303
    assert db.session.execute(select(CampaignUpdateText)).first() is None


def test_the_updates_pages_are_welsh_under_cy(app, client, make_account, sign_in, readers):
    sign_in(make_account())
    item = updates.save_draft(db.session, ADMIN, subject="News", body_markdown="News.", audience=Audience())
    listing = client.get("/cy/organiser/updates")
    assert listing.status_code == 200 and '<html lang="cy"' in listing.text
    assert "Diweddariadau i lofnodwyr" in listing.text and "Ysgrifennu diweddariad" in listing.text
    assert 'for="subject_cy">Teitl Cymraeg</label>' in listing.text
    assert "Cymraeg (dewisol)" in listing.text and "y fersiwn Saesneg" in listing.text
    detail = client.get(f"/cy/organiser/updates/{item.id}")
    assert "<strong>2</strong> yn ei gael nawr." in detail.text and "Anfon at 2 lofnodwr" in detail.text
    english = client.get("/organiser/updates").text + client.get(f"/organiser/updates/{item.id}").text
    # The updates pages' own words (the layout, the field labels and union names are others' to check).
    own = [
        "Updates to signers",
        "An update goes to confirmed signers",
        "Write an update",
        "Save draft and preview",
        "All updates",
        "Audience: confirmed signers who asked for updates",
        "would get it now",
        "As plain text",
        "Each email greets its signer by name",
        "Send a test to",
        "This sends the update to",
        "Send to 2 signers",
        "Change the draft",
        "Welsh (optional)",
        "Welsh title",
        "Welsh text",
        "Markdown, as above.",
        "All sectors",
        "Any union or none",
    ]
    assert [words for words in own if words not in english] == []  # all on the English pages
    assert [words for words in own if words in listing.text + detail.text] == []
