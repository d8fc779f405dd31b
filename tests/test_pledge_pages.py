"""Public pages and the sign-up journey through the HTTP layer (Flask test client)."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Signature, SignatureStatus
from app.services.export import ExportFilters, ExportScope, export_query, signatory_rows
from tests.forms import csrf_token

SECTORS = ["education", "health", "policing", "local-services", "public"]


def test_home_shows_pledge_counts_and_a_way_into_each_sector(client, make_signup):
    page = client.get("/")
    assert page.status_code == 200
    for slug in SECTORS:
        assert f'href="/sign/{slug}"' in page.text
    assert 'data-count="total"' in page.text
    assert 'href="/recommendations"' in page.text and 'href="/data-sharing"' in page.text
    assert "<script>" not in page.text  # no inline script (CSP)


@pytest.mark.parametrize("slug", SECTORS)
def test_each_sector_has_its_own_form(client, slug):
    page = client.get(f"/sign/{slug}")
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    heading = re.search(r"<h1>(.*?)</h1>", page.text).group(1)
    assert heading
    assert 'type="checkbox"' not in page.text  # choices are made on the confirmation page only
    assert 'href="/privacy"' in page.text


def test_sector_headings_differ(client):
    headings = {re.search(r"<h1>(.*?)</h1>", client.get(f"/sign/{s}").text).group(1) for s in SECTORS}
    assert len(headings) == len(SECTORS)


@pytest.mark.parametrize("url", ["/sign/nope", "/sign/education?org=nope", "/unions/nope", "/recommendations/nope"])
def test_unknown_sector_union_or_area_is_404(client, url):
    assert client.get(url).status_code == 404


def test_org_presets_the_union_and_credits_it(client, sign_via_form, keys):
    page = client.get("/sign/education?org=neu&source=neu-newsletter")
    assert re.search(r'<option selected value="neu">|<option value="neu" selected>', page.text)
    response = sign_via_form(query="?org=neu&source=neu-newsletter", organisation="neu", source="neu-newsletter")
    assert response.status_code == 303
    signature = db.session.execute(select(Signature)).scalar_one()
    assert signature.organisation.slug == "neu" and signature.source == "neu-newsletter"
    assert signature.postcode_outward is None
    assert (signature.consent_updates, signature.consent_share_union) == (False, False)


def test_union_landing_page_has_count_and_form(client):
    page = client.get("/unions/neu")
    assert page.status_code == 200
    assert "National Education Union" in page.text
    assert 'data-count="org" data-slug="neu"' in page.text
    assert 'action="/sign/education?org=neu"' in page.text


def test_new_duplicate_and_pending_all_see_the_same_page(client, sign_via_form, make_signup):
    make_signup(email="known@example.com")
    pages = []
    for email in ["new@example.com", "known@example.com", "KNOWN@example.com"]:
        response = sign_via_form(email=email)
        assert response.status_code == 303
        pages.append((response.headers["Location"], client.get(response.headers["Location"]).text))
    assert pages[0] == pages[1] == pages[2]
    assert "Check your email" in pages[0][1]


def test_postcode_is_reduced_to_its_outward_code(sign_via_form):
    sign_via_form(postcode="sw1a 1aa")
    assert db.session.execute(select(Signature.postcode_outward)).scalar_one() == "SW1A"


def test_errors_are_listed_and_linked_to_their_fields(sign_via_form):
    response = sign_via_form(name="", email="not-an-email", postcode="nowhere")
    assert response.status_code == 400
    html = response.text
    assert "There is a problem" in html
    for field in ["name", "email", "postcode"]:
        assert f'href="#{field}"' in html
        tag = re.search(rf'<input[^>]*id="{field}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in tag
        assert f"{field}-error" in re.search(r'aria-describedby="([^"]*)"', tag).group(1)
    assert "<title>Error:" in html
    assert db.session.execute(select(Signature)).first() is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "x" * 101}, "100 characters or fewer"),
        ({"email": "a" * 250 + "@example.com"}, "254 characters or fewer"),
        ({"name": "Ada\x07Lovelace"}, "control characters"),
        ({"organisation": "made-up"}, "Choose your union from the list"),
    ],
)
def test_bad_input_gets_a_helpful_message(sign_via_form, fields, message):
    response = sign_via_form(**fields)
    assert response.status_code == 400
    assert message in response.text


def test_odd_source_is_dropped_not_shown_as_error(sign_via_form):
    assert sign_via_form(source="<script>alert(1)</script>").status_code == 303
    assert db.session.execute(select(Signature.source)).scalar_one() is None


def test_missing_csrf_token_is_refused_with_a_clear_page(client):
    response = client.post("/sign/education", data={"name": "Ada", "email": "ada@example.com"})
    assert response.status_code == 400
    assert "security code" in response.text
    assert db.session.execute(select(Signature)).first() is None


def test_oversized_body_is_refused(client):
    response = client.post("/sign/education", data={"name": "x" * 100_000})
    assert response.status_code == 413
    assert "too much" in response.text


def test_confirm_link_shows_a_button_and_post_confirms(client, sign_via_form, mailbox, confirm_via_page):
    sign_via_form()
    path = mailbox.link(mailbox.messages()[0], "confirm")
    page = client.get(path)
    assert page.status_code == 200 and "Confirm my signature" in page.text
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert client.get("/api/v1/counts").json["total"] == 0  # opening the link is not confirming
    response = confirm_via_page(path)
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"])
    assert "your signature is confirmed" in thanks.text
    assert re.search(r'data-count="total">1<', thanks.text)
    again = client.post(path, data={"csrf_token": csrf_token(page.text)})
    assert again.status_code == 303
    assert client.get("/api/v1/counts").json["total"] == 1


@pytest.mark.parametrize("token", ["nonsense", "1.1." + "A" * 43, "../../etc/passwd"])
def test_forged_or_malformed_links_get_a_clear_4xx(client, token):
    for path in [f"/confirm/{token}", f"/manage/{token}"]:
        response = client.get(path)
        assert 400 <= response.status_code < 500
        if response.status_code == 404 and "not valid" not in response.text:
            assert "Page not found" in response.text


def test_tampered_confirmation_link_is_refused(client, sign_via_form, mailbox):
    sign_via_form()
    path = mailbox.link(mailbox.messages()[0], "confirm")
    tampered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    response = client.get(tampered)
    assert response.status_code == 404 and "not valid" in response.text


def test_expired_confirmation_link_says_so(app, client, sign_via_form, mailbox):
    sign_via_form()
    path = mailbox.link(mailbox.messages()[0], "confirm")
    app.config["CONFIRM_TOKEN_MAX_AGE_DAYS"] = -1
    response = client.get(path)
    assert response.status_code == 410 and "expired" in response.text


def _confirmed_manage_path(sign_via_form, mailbox, confirm_via_page, choices=None, **fields):
    sign_via_form(**fields)
    message = mailbox.messages()[-1]
    assert confirm_via_page(mailbox.link(message, "confirm"), **(choices or {})).status_code == 303
    return mailbox.link(message, "manage")


def test_manage_changes_consents(client, sign_via_form, mailbox, confirm_via_page):
    manage = _confirmed_manage_path(sign_via_form, mailbox, confirm_via_page, organisation="neu")
    page = client.get(manage)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    response = client.post(
        f"{manage}/consents",
        data={"csrf_token": csrf_token(page.text), "consent_updates": "y", "consent_share_union": "y"},
    )
    assert response.status_code == 303
    signature = db.session.execute(select(Signature)).scalar_one()
    db.session.refresh(signature)
    assert signature.consent_updates and signature.consent_share_union
    assert "saved" in client.get(response.headers["Location"]).text


def test_manage_withdraws_and_counts_drop(client, sign_via_form, mailbox, confirm_via_page):
    manage = _confirmed_manage_path(sign_via_form, mailbox, confirm_via_page)
    assert client.get("/api/v1/counts").json["total"] == 1
    page = client.get(manage)
    response = client.post(f"{manage}/withdraw", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    assert "withdrawn" in client.get(response.headers["Location"]).text
    assert client.get("/api/v1/counts").json["total"] == 0
    assert db.session.execute(select(Signature)).first() is None
    assert client.get(manage).status_code == 404


def test_one_click_unsubscribe_from_the_email_header(client, sign_via_form, mailbox, confirm_via_page):
    _confirmed_manage_path(sign_via_form, mailbox, confirm_via_page, choices={"consent_updates": "y"})
    assert db.session.execute(select(Signature.consent_updates)).scalar_one() is True
    message = mailbox.messages()[0]
    url = re.fullmatch(r"<(.+)>", message["List-Unsubscribe"]).group(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = url.replace("http://localhost", "")
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert db.session.execute(select(Signature.consent_updates)).scalar_one() is False


# Only the person who holds the mailbox decides what is confirmed --------------------------


def exported(keys, scope: ExportScope):
    query = export_query(db.session, ExportFilters(), scope)
    return list(signatory_rows(db.session, keys, query))


def input_tag(html: str, name: str) -> str:
    return re.search(rf'<input[^>]*\sname="{name}"[^>]*>', html).group(0)


def test_a_stranger_who_signs_first_with_your_address_decides_nothing(
    client, sign_via_form, mailbox, confirm_via_page, keys, org_id
):
    # Mallory gets in first with Victoria's address: NEU, a made-up name, both boxes ticked.
    fields = {"email": "victoria@example.com", "organisation": "neu"}
    sign_via_form(name="Mallory Made-Up", consent_updates="y", consent_share_union="y", **fields)
    # Victoria, an NEU member, signs with her own details and confirms from her mailbox, ticking nothing.
    sign_via_form(name="Victoria Adeyemi", **fields)
    message = mailbox.messages()[-1]
    page = client.get(mailbox.link(message, "confirm")).text
    assert confirm_via_page(mailbox.link(message, "confirm")).status_code == 303

    assert exported(keys, ExportScope(org_id("neu"))) == []  # NEU's export: she did not agree to sharing
    [row] = exported(keys, ExportScope.everything())
    assert (row.name, row.union, row.consent_updates, row.consent_share_union) == (
        "Victoria Adeyemi",
        "neu",
        False,
        False,
    )
    assert client.get("/api/v1/counts?org=neu").json["organisations"][0]["count"] == 1
    assert "Mallory" not in page and "Mallory" not in message.get_body(("plain",)).get_content()


def test_the_confirmation_page_shows_what_will_be_recorded_and_unticked_choices(
    client, sign_via_form, mailbox, confirm_via_page
):
    sign_via_form(
        name="Ada Lovelace", organisation="neu", postcode="sw1a 1aa", consent_updates="y", consent_share_union="y"
    )
    path = mailbox.link(mailbox.messages()[0], "confirm")
    page = client.get(path).text
    assert 'value="Ada Lovelace"' in input_tag(page, "name")
    for detail in ["Education", "National Education Union", "SW1A"]:
        assert detail in page
    boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*>', page)
    assert len(boxes) == 2 and not any("checked" in box for box in boxes)
    assert confirm_via_page(path).status_code == 303  # pressed without ticking anything
    signature = db.session.execute(select(Signature)).scalar_one()
    assert signature.status is SignatureStatus.CONFIRMED
    assert (signature.consent_updates, signature.consent_share_union) == (False, False)


def test_choices_ticked_on_the_confirmation_page_are_recorded(client, sign_via_form, mailbox, confirm_via_page):
    sign_via_form(organisation="unison")
    path = mailbox.link(mailbox.messages()[0], "confirm")
    assert confirm_via_page(path, consent_updates="y", consent_share_union="y").status_code == 303
    signature = db.session.execute(select(Signature)).scalar_one()
    assert (signature.consent_updates, signature.consent_share_union) == (True, True)


def test_a_name_corrected_on_the_confirmation_page_is_stored(client, sign_via_form, mailbox, confirm_via_page, keys):
    sign_via_form(name="Mallory Made-Up")
    assert confirm_via_page(mailbox.link(mailbox.messages()[0], "confirm"), name="Ada  King ").status_code == 303
    [row] = exported(keys, ExportScope.everything())
    assert row.name == "Ada King"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Ada https://evil.example", "without a web address"),
        ("Ada\u200bLovelace", "invisible formatting characters"),
        ("", "Enter your name"),
    ],
)
def test_the_confirmation_page_refuses_a_name_the_form_would(
    client, sign_via_form, mailbox, confirm_via_page, name, message
):
    sign_via_form()
    response = confirm_via_page(mailbox.link(mailbox.messages()[0], "confirm"), name=name)
    assert response.status_code == 400 and message in response.text
    assert 'href="#name"' in response.text
    assert client.get("/api/v1/counts").json["total"] == 0


@pytest.mark.parametrize("union", ["", "other"])
def test_no_share_box_without_a_listed_union_and_a_forced_one_is_refused(
    client, sign_via_form, mailbox, confirm_via_page, union
):
    sign_via_form(organisation=union)
    path = mailbox.link(mailbox.messages()[0], "confirm")
    assert 'name="consent_share_union"' not in client.get(path).text
    response = confirm_via_page(path, consent_share_union="y")
    assert response.status_code == 400 and "share your details" in response.text
    assert client.get("/api/v1/counts").json["total"] == 0


def test_sharing_with_another_union_is_refused_on_the_manage_page(client, sign_via_form, mailbox, confirm_via_page):
    manage = _confirmed_manage_path(sign_via_form, mailbox, confirm_via_page, organisation="other")
    page = client.get(manage)
    response = client.post(
        f"{manage}/consents",
        data={"csrf_token": csrf_token(page.text), "consent_updates": "y", "consent_share_union": "y"},
    )
    assert response.status_code == 400 and "union on our list" in response.text
    signature = db.session.execute(select(Signature)).scalar_one()
    assert (signature.consent_updates, signature.consent_share_union) == (False, False)
    assert 'name="consent_share_union"' not in page.text and "not on our list" in page.text


def test_a_pending_signatures_manage_page_leaves_the_choices_to_confirmation(client, sign_via_form, mailbox):
    sign_via_form(organisation="neu")
    manage = mailbox.link(mailbox.messages()[0], "manage")
    page = client.get(manage)
    assert 'type="checkbox"' not in page.text and "when you confirm" in page.text
    response = client.post(f"{manage}/consents", data={"csrf_token": csrf_token(page.text), "consent_updates": "y"})
    assert response.status_code == 400 and "Confirm your signature first" in response.text
    assert db.session.execute(select(Signature.consent_updates)).scalar_one() is False


def test_the_link_of_a_confirmed_signature_changes_no_choices(client, sign_via_form, mailbox, confirm_via_page, keys):
    sign_via_form(organisation="neu")
    path = mailbox.link(mailbox.messages()[0], "confirm")
    page = client.get(path)
    confirm_via_page(path)
    again = client.get(path)
    assert "already confirmed" in again.text and 'type="checkbox"' not in again.text
    manage = re.search(r'href="(/manage/[^"]+)"', again.text).group(1)
    assert "Manage your signature" in client.get(manage).text
    fields = {"name": "Mallory", "consent_updates": "y", "consent_share_union": "y"}
    response = client.post(path, data={"csrf_token": csrf_token(page.text), **fields})
    assert response.status_code == 303
    signature = db.session.execute(select(Signature)).scalar_one()
    assert (signature.consent_updates, signature.consent_share_union) == (False, False)
    assert keys.cipher.decrypt(signature.name_encrypted) == "Grace Hopper"
    assert client.get("/api/v1/counts").json["total"] == 1


def test_details_replaced_while_the_page_was_open_are_shown_before_confirming(
    client, sign_via_form, mailbox, confirm_via_page
):
    sign_via_form(organisation="neu")
    path = mailbox.link(mailbox.messages()[0], "confirm")
    page = client.get(path).text
    shown = {
        name: re.search(r'value="([^"]*)"', input_tag(page, name)).group(1)
        for name in ["csrf_token", "name", "shown_sector", "shown_union", "shown_postcode"]
    }
    sign_via_form(organisation="unison")  # signed again meanwhile
    response = client.post(path, data=shown)
    assert response.status_code == 409 and "Your details have changed" in response.text
    assert "UNISON" in response.text
    assert client.get("/api/v1/counts").json["total"] == 0
    assert confirm_via_page(path).status_code == 303
    counts = client.get("/api/v1/counts").json
    assert {o["slug"]: o["count"] for o in counts["organisations"]}["unison"] == 1


@pytest.mark.parametrize(
    "name",
    [
        "http://evil.example",
        "Ada https://evil.example/path",
        "www.evil.example",
        "Ada WWW.EVIL.EXAMPLE",
        "example.com",
        "Click example.com now",
        "bit.ly/x",
        "evil.co.uk",
        "ｅｖｉｌ．ｃｏｍ",
    ],
)
def test_a_name_with_a_web_address_is_refused(sign_via_form, name):
    response = sign_via_form(name=name)
    assert response.status_code == 400
    assert "Enter your name without a web address" in response.text
    assert db.session.execute(select(Signature)).first() is None


@pytest.mark.parametrize(
    "name", ["J.R.R. Tolkien", "St. John Smith", "Mary-Jane O'Neill", "Dr. A.N. Other", "Y.Li", "Siobhán Ní Bhriain"]
)
def test_ordinary_names_with_dots_are_accepted(sign_via_form, keys, name):
    assert sign_via_form(name=name).status_code == 303
    assert keys.cipher.decrypt(db.session.execute(select(Signature.name_encrypted)).scalar_one()) == name


@pytest.mark.parametrize("character", ["\u200b", "\u202e", "\u2060", "\u00ad", "\u061c", "\ufeff"])
def test_invisible_format_characters_in_a_name_are_refused(sign_via_form, character):
    response = sign_via_form(name=f"Ada{character}Lovelace")
    assert response.status_code == 400
    assert "Remove the invisible formatting characters" in response.text
    assert db.session.execute(select(Signature)).first() is None


@pytest.mark.parametrize(
    "path",
    [
        "/recommendations",
        "/recommendations/education",
        "/recommendations/health",
        "/recommendations/policing",
        "/recommendations/data-protection",
        "/data-sharing",
        "/privacy",
        "/about",
    ],
)
def test_content_pages(client, path):
    page = client.get(path)
    assert page.status_code == 200
    assert "<h1>" in page.text


def test_recommendation_area_shows_its_sector_count_and_sign_button(client):
    page = client.get("/recommendations/policing")
    assert 'data-count="sector" data-slug="policing"' in page.text
    assert 'href="/sign/policing?source=recommendations"' in page.text


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get("/", base_url="https://localhost")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]


def test_session_cookie_flags(client):
    response = client.get("/sign/education")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "Page not found" in response.text


def test_pledge_page_weighs_under_50_kb_compressed(client):
    import gzip

    html = client.get("/").data
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', html.decode())
    assert assets  # the stylesheet and script are counted too
    total = len(gzip.compress(html)) + sum(len(gzip.compress(client.get(a).data)) for a in assets)
    assert total < 50_000
