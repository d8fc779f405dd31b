"""The organiser area in Welsh: signing in through the /cy/organiser pages, and every page, form
error and flash message there in Welsh (lang="cy", none of the English page's sentences), with
links and redirects that stay in Welsh."""

from __future__ import annotations

import io
import re
from datetime import date
from html import unescape
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from app import content_loader
from app.extensions import db
from app.models import Sector, SignatureStatus
from app.services import audit, paper
from tests.forms import csrf_token
from tests.organisers import PASSWORD, next_code

WELSH = "/cy/organiser"
ENGLISH = "/organiser"
EVENT = "Ffair Caerdydd"  # test data in no language's words
# Not words but data: the audit log's details, emails, addresses, domains, codes such as paper:ffair-caerdydd.
DATA = re.compile(r"^\{.*\}$|\S+@\S+|\S+://\S+|\S+\.\w\S*|\S*[:_]\S*")
WORD = re.compile(r"\b[A-Za-z][a-z]+\b")  # a word of a sentence, not a code like CSV or a secret key


def same_in_both() -> set[str]:
    """Text a Welsh page shows as the English one does: a command to type, the test's event, slugs
    (moderation lists them), and the names that content/*.cy.yaml leaves in English."""
    same = {"flask organisers reset-2fa EMAIL", EVENT}
    for kind in ("sectors", "organisations"):
        for item in content_loader.load_yaml(kind, language="en"):
            same.add(item["slug"])
            if content_loader.name_of(kind, item["slug"], language="cy") == item["name"]:
                same.add(item["name"])
    return same


class _Text(HTMLParser):
    """What a person reads inside <main>: text, and the labels and words a script shows (not the
    file sent back in a hidden textarea)."""

    READ_ATTRIBUTES = ("aria-label", "data-label", "title")

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._main = 0
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self._main += 1
        if tag in ("script", "style", "textarea"):
            self._skip += 1
        if self._main:
            self.parts += [v for k, v in attrs if v and (k in self.READ_ATTRIBUTES or k.startswith("data-text-"))]

    def handle_endtag(self, tag):
        if tag == "main":
            self._main -= 1
        if tag in ("script", "style", "textarea"):
            self._skip -= 1

    def handle_data(self, data):
        if self._main and not self._skip and data.strip():
            self.parts.append(" ".join(data.split()))


def read(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


def text(response) -> str:
    """A page's text as a person reads it (entities and all)."""
    return " ".join(read(response.get_data(as_text=True)))


def english_sentences(html: str) -> list[str]:
    """Bits of an English page a person reads that hold two words or more (names and data aside)."""
    same = same_in_both()
    sentences = []
    for part in read(html):
        words = [word for word in DATA.sub("", part).split() if word not in same]
        if part not in same and len(WORD.findall(" ".join(words))) >= 2:
            sentences.append(part)
    return sentences


def assert_welsh(welsh, english, *distinctive: str) -> None:
    """The Welsh page is marked Welsh and shows none of the English page's sentences; `distinctive`
    are some of them by name (each must be on the English page, so the check cannot go stale)."""
    welsh_html, english_html = welsh.get_data(as_text=True), english.get_data(as_text=True)
    assert welsh.status_code == english.status_code
    assert '<html lang="cy"' in welsh_html and '<html lang="en-GB"' in english_html
    english_text = " ".join(read(english_html))
    assert [s for s in distinctive if s not in english_text] == []
    welsh_text = " ".join(read(welsh_html))
    assert [s for s in distinctive if s in welsh_text] == []
    assert [s for s in english_sentences(english_html) if s in welsh_text] == []


def both(client, path: str, **kwargs):
    """The Welsh page and its English twin, fetched the same way (the Welsh first)."""
    return client.get(WELSH + path, **kwargs), client.get(ENGLISH + path, **kwargs)


def sign_in_in_welsh(client, keys, account, password: str = PASSWORD):
    """The sign-in pages in Welsh: password, then the two-factor code if asked. The last response."""
    page = client.get(f"{WELSH}/login")
    response = client.post(
        f"{WELSH}/login", data={"email": account.email, "password": password, "csrf_token": csrf_token(page.text)}
    )
    if response.status_code == 303 and response.headers["Location"].startswith(f"{WELSH}/login/code"):
        page = client.get(response.headers["Location"])
        assert '<html lang="cy"' in page.text and "Rhowch eich cod" in page.text
        response = client.post(
            response.headers["Location"],
            data={"code": next_code(keys, account), "csrf_token": csrf_token(page.text)},
        )
    return response


@pytest.fixture
def admin(client, keys, make_account):
    account = make_account()
    assert sign_in_in_welsh(client, keys, account).headers["Location"] == f"{WELSH}/"
    return account


@pytest.fixture
def union_organiser(client, keys, make_account):
    account = make_account("neu@example.org", "organiser", "neu")
    assert sign_in_in_welsh(client, keys, account).headers["Location"] == f"{WELSH}/"
    return account


@pytest.fixture
def signers(make_signature):
    """Sign-ups of every kind a page lists: confirmed (shared with the NEU or not), pending, held."""
    for n in range(12):
        make_signature(
            email=f"member{n}@example.com",
            union="neu",
            source="stondin",
            postcode="CF10",
            share_union=n % 2 == 0,
            status=SignatureStatus.CONFIRMED,
        )
    make_signature(email="pending@example.com", sector="health")
    make_signature(email="held@example.com", status=SignatureStatus.HELD)


@pytest.fixture
def tally(app):
    sector_id = db.session.execute(select(Sector.id).where(Sector.slug == "education")).scalar_one()
    recorder = paper.Recorder(audit.CLI, is_admin=True, organisation_id=None)
    details = paper.TallyDetails(EVENT, date(2026, 3, 10), sector_id, None, 40)
    return paper.record_tally(db.session, recorder, details)


# Signing in -----------------------------------------------------------------------------------


def test_a_wrong_password_gets_a_welsh_error_on_the_welsh_sign_in_page(client, make_account):
    account = make_account()
    page = client.get(f"{WELSH}/login")
    assert '<html lang="cy"' in page.text and "Mewngofnodi trefnwyr" in page.text
    response = client.post(
        f"{WELSH}/login",
        data={"email": account.email, "password": "not the password", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 400 and '<html lang="cy"' in response.text
    assert "Nid oeddem yn gallu eich mewngofnodi gyda'r cyfeiriad e-bost a'r cyfrinair hynny." in text(response)
    assert "We could not sign you in" not in response.text and "There is a problem" not in response.text


def test_a_welsh_sign_in_form_with_nothing_in_it_says_so_in_welsh(client):
    page = client.get(f"{WELSH}/login")
    response = client.post(f"{WELSH}/login", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 400
    shown = text(response)
    assert "Rhowch eich cyfeiriad e-bost." in shown and "Rhowch eich cyfrinair." in shown
    assert "Enter your email address." not in shown and "Enter your password." not in shown


def test_a_welsh_page_asked_for_before_sign_in_comes_back_in_welsh_after_it(client, keys, make_account):
    account = make_account()
    asked = client.get(f"{WELSH}/exports")
    assert asked.status_code == 302 and asked.headers["Location"].startswith(f"{WELSH}/login?next=")
    login = client.get(asked.headers["Location"])
    assert "Mewngofnodwch i weld y dudalen honno." in login.text and "Sign in to see that page." not in login.text
    page = client.get(asked.headers["Location"])
    response = client.post(
        asked.headers["Location"],
        data={"email": account.email, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    code_page = client.get(response.headers["Location"])
    done = client.post(
        response.headers["Location"],
        data={"code": next_code(keys, account), "csrf_token": csrf_token(code_page.text)},
    )
    assert done.status_code == 303 and done.headers["Location"] == f"{WELSH}/exports"


def test_an_ended_session_sends_the_organiser_back_to_the_welsh_page(client, keys, make_account):
    from app.organiser.access import SESSION_TOKEN

    account = make_account()
    sign_in_in_welsh(client, keys, account)
    with client.session_transaction() as session:
        session[SESSION_TOKEN] = "ended"
    ended = client.get(f"{WELSH}/audit")
    assert ended.status_code == 302 and ended.headers["Location"].startswith(f"{WELSH}/login?next=")
    page = client.get(ended.headers["Location"])
    assert "Mae eich sesiwn wedi dod i ben. Mewngofnodwch eto." in page.text
    response = client.post(
        ended.headers["Location"],
        data={"email": account.email, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    code_page = client.get(response.headers["Location"])
    done = client.post(
        response.headers["Location"], data={"code": next_code(keys, account), "csrf_token": csrf_token(code_page.text)}
    )
    assert done.headers["Location"] == f"{WELSH}/audit"


def test_setting_up_two_factor_in_welsh(client, keys, make_account):
    account = make_account("new@example.org", totp=False)
    response = sign_in_in_welsh(client, keys, account)
    assert response.headers["Location"] == f"{WELSH}/account/two-factor"
    welsh, english = both(client, "/account/two-factor")
    assert_welsh(welsh, english, "Every organiser account needs two-factor sign-in before it can see anything else.")
    assert "Mae angen dilysu dau gam ar bob cyfrif trefnydd." in welsh.text  # the flash message
    wrong = client.post(f"{WELSH}/account/two-factor", data={"code": "000000", "csrf_token": csrf_token(welsh.text)})
    assert wrong.status_code == 400 and "Nid oedd y cod hwnnw'n cyfateb." in text(wrong)
    assert "That code did not match." not in wrong.text


def test_a_wrong_two_factor_code_gets_a_welsh_error(client, keys, make_account):
    account = make_account()
    page = client.get(f"{WELSH}/login")
    response = client.post(
        f"{WELSH}/login", data={"email": account.email, "password": PASSWORD, "csrf_token": csrf_token(page.text)}
    )
    code_page = client.get(response.headers["Location"])
    wrong = client.post(response.headers["Location"], data={"code": "12", "csrf_token": csrf_token(code_page.text)})
    assert wrong.status_code == 400 and "Ni weithiodd y cod hwnnw." in wrong.text
    assert "That code did not work." not in wrong.text


def test_signing_out_says_so_in_welsh(client, admin):
    page = client.get(f"{WELSH}/")
    response = client.post(f"{WELSH}/logout", data={"csrf_token": csrf_token(page.text)})
    assert response.headers["Location"] == f"{WELSH}/login"
    after = text(client.get(response.headers["Location"]))
    assert "Rydych wedi allgofnodi." in after and "You have signed out." not in after


def test_the_password_pages_are_welsh(client):
    welsh, english = both(client, "/password/reset")
    assert_welsh(welsh, english, "Reset your password", "Send me a link")
    sent = client.post(
        f"{WELSH}/password/reset", data={"email": "nobody@example.org", "csrf_token": csrf_token(welsh.text)}
    )
    english_sent = client.post(
        f"{ENGLISH}/password/reset", data={"email": "nobody@example.org", "csrf_token": csrf_token(english.text)}
    )
    assert_welsh(sent, english_sent, "If there is an organiser account for that address, we have sent it a link")
    welsh, english = both(client, "/password/not-a-token")
    assert welsh.status_code == 404
    assert_welsh(welsh, english, "This link is not valid", "It may have been used already or have expired.")


# The pages ------------------------------------------------------------------------------------

ADMIN_PAGES = {
    "/": (
        "Sign-ups per day as a table",
        "awaiting confirmation",
        "By source (confirmed)",
        "Verified with a work email",
    ),
    "/exports": ("Export signatories", "Consented to updates", "Download JSON (OSDI)"),
    "/paper": ("Record a tally", "How many people signed", "Correct or withdraw"),
    "/paper/import": ("Import paper forms", "Nobody is signed up for updates or sharing"),
    "/moderation": ("Exact email", "Email domain", "Signed from"),
    "/moderation?status=confirmed": ("Invalidate ticked", "Reveal name and email", "Sector / union"),
    "/moderation/bulk?status=confirmed": ("Invalidate in bulk", "Back to the results"),
    "/moderation/held": ("Held for review", "Release: send its confirmation email"),
    "/moderation/domains": ("Blocked email domains", "No domains are blocked.", "Reason (optional)"),
    "/audit": ("When (UTC)", "Audit log"),
    "/settings": ("Pause signing site-wide",),
    "/accounts": ("Organiser accounts", "Last sign-in (UTC)", "Disabling an account signs it out everywhere"),
    "/account/two-factor": ("Two-factor sign-in is on for your account.",),
}


@pytest.mark.parametrize("path", list(ADMIN_PAGES))
def test_every_admin_page_is_welsh(client, admin, signers, tally, path):
    welsh, english = both(client, path)
    assert welsh.status_code == 200
    assert_welsh(welsh, english, *ADMIN_PAGES[path])


FILTER_ERRORS = {
    "/exports?confirmed_from=2026-13-01": "Enter a date like 2026-03-10.",
    "/exports?confirmed_from=1999-01-01": "Enter a date between 2000-01-01 and 2100-12-31.",
    "/moderation?status=held&created_from=2026-03-11&created_to=2026-03-10": (
        "Enter a date on or after 2026-03-11, the start of the range."
    ),
}


@pytest.mark.parametrize("path", list(FILTER_ERRORS))
def test_filter_errors_are_welsh(client, admin, path):
    welsh, english = both(client, path)
    assert welsh.status_code == 400
    assert_welsh(welsh, english, FILTER_ERRORS[path])
    assert "Rhowch ddyddiad" in text(welsh)


def test_a_tally_page_is_welsh_with_a_welsh_date(client, admin, tally):
    welsh, english = both(client, f"/paper/tallies/{tally.id}")
    assert welsh.status_code == 200
    assert_welsh(welsh, english, "Correct or withdraw a tally", "Withdraw the tally", "10 March 2026")
    assert "10 Mawrth 2026" in text(welsh)


UNION_PAGES = {
    "/": ("How members who did not agree to share are shown", "Other sources", "agreed to share their details"),
    "/exports": ("agreed to share their name and email with it",),
    "/paper": ("Up to 500 at a time; ask a campaign admin to record a bigger tally.",),
    "/paper/import": ("Everyone in the file is recorded as a NEU member.",),
}


@pytest.mark.parametrize("path", list(UNION_PAGES))
def test_every_page_of_a_unions_organiser_is_welsh(client, union_organiser, signers, path):
    welsh, english = both(client, path)
    assert welsh.status_code == 200
    assert_welsh(welsh, english, *UNION_PAGES[path])


# Form errors and flash messages -----------------------------------------------------------------


def test_tally_errors_are_welsh(client, admin):
    page = client.get(f"{WELSH}/paper")
    response = client.post(
        f"{WELSH}/paper/tallies", data={"csrf_token": csrf_token(page.text), "event_name": EVENT, "count": "lots"}
    )
    assert response.status_code == 400 and '<html lang="cy"' in response.text
    for welsh, english in [
        ("Rhowch ddyddiad y digwyddiad.", "Enter the date of the event."),
        ("Dewiswch sector o'r rhestr.", "Choose a sector from the list."),
        ("Rhowch faint o bobl a lofnododd, fel rhif cyfan, er enghraifft 25.", "as a whole number, like 25."),
        ("Mae problem wedi codi", "There is a problem"),
    ]:
        assert welsh in text(response) and english not in text(response)


def test_flash_messages_are_welsh(client, admin, signers):
    settings = client.get(f"{WELSH}/settings")
    saved = client.post(f"{WELSH}/settings", data={"csrf_token": csrf_token(settings.text), "paused": "y"})
    assert saved.headers["Location"] == f"{WELSH}/settings"
    page = text(client.get(saved.headers["Location"]))
    assert "Bydd llofnodi wedi'i oedi ar bob gweinydd" in page and "Signing is paused on every server" not in page
    assert "Mae llofnodi wedi'i oedi." in text(client.get(f"{WELSH}/"))

    results = client.get(f"{WELSH}/moderation?status=confirmed")
    first = re.search(r'name="ids" value="(\d+)"', results.text).group(1)
    back = f"{ENGLISH}/moderation?status=confirmed"
    no_reason = client.post(
        f"{WELSH}/moderation/{first}/invalidate", data={"csrf_token": csrf_token(results.text), "back": back}
    )
    page = text(client.get(no_reason.headers["Location"]))
    assert "Rhowch reswm o hyd at 200 nod." in page and "Give a reason of up to 200 characters." not in page
    done = client.post(
        f"{WELSH}/moderation/selected/invalidate",
        data={"csrf_token": csrf_token(results.text), "back": back, "ids": [first], "reason": "sbam"},
    )
    page = text(client.get(done.headers["Location"]))
    assert "Wedi annilysu 1 o'r 1 cofrestriad a ddewiswyd." in page and "selected sign-ups" not in page

    domains = client.get(f"{WELSH}/moderation/domains")
    blocked = client.post(
        f"{WELSH}/moderation/domains", data={"csrf_token": csrf_token(domains.text), "domain": "sbam.example"}
    )
    page = text(client.get(blocked.headers["Location"]))
    assert "Parth wedi'i rwystro: bydd cofrestriadau newydd" in page and "Domain blocked" not in page
    welsh, english = both(client, "/moderation/domains")
    assert_welsh(welsh, english, "Block domain", "Unblock")


def upload(client, root: str):
    """The paper-form upload page's preview of a file with one good row and one with errors."""
    page = client.get(f"{root}/paper/import")
    rows = "Name,Email,Sector,Union,Postcode\nSiân Jones,sian@example.com,education,,\nBob,xyz,astronomy,,\n"
    return client.post(
        f"{root}/paper/import",
        data={"csrf_token": csrf_token(page.text), "event_name": EVENT, "file": (io.BytesIO(rows.encode()), "f.csv")},
        content_type="multipart/form-data",
    )


def test_a_paper_import_in_welsh_from_preview_to_result(client, admin):
    preview = upload(client, WELSH)
    assert preview.status_code == 200
    assert_welsh(
        preview,
        upload(client, ENGLISH),
        "Will be sent a confirmation email",
        "Choose a sector: education, health",
        "Enter an email address in the correct format",
        "rows will be signed up and sent a confirmation email",
        "Import 1 person",
        "Reload the page to see how far it got, or upload the file again.",
    )
    assert "Sector: Dewiswch sector: education, health" in preview.text
    assert "Mewnforio 1 person" in preview.text
    assert 'data-text-done="Wedi prosesu {done} o 2 res."' in preview.text  # the script's words, in Welsh
    sent_back = re.search(r'<textarea name="text" hidden>(.*?)</textarea>', preview.text, re.S).group(1)
    started = client.post(
        f"{WELSH}/paper/imports",
        data={"csrf_token": csrf_token(preview.text), "event_name": EVENT, "text": unescape(sent_back)},
    )
    assert started.status_code == 303 and started.headers["Location"].startswith(f"{WELSH}/paper/imports/")
    welsh = client.get(started.headers["Location"])
    english = client.get(started.headers["Location"].removeprefix("/cy"))
    assert_welsh(welsh, english, "rows done.", "skipped with errors", "Back to paper sign-ups")
    assert "Wedi prosesu 2 o 2 res." in text(welsh)
