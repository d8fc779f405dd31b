"""The public pledge pages in Welsh: each /cy/ twin answers with lang="cy" and none of the English
page's own sentences (the templates' and the forms' words), form errors in Welsh, dates with Welsh
month names, and the signer's language taken from the page they signed and confirmed on."""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from app import content_loader
from app.extensions import db
from app.models import ReachedMilestone, Signature, SignatureStatus, utcnow
from app.services import audit, paper, tokens, updates
from app.services.counts import adjust_count, adjust_verified
from app.services.updates import Audience, unsubscribe_token
from app.services.work_verification import link_token, offer_token
from tests.forms import csrf_token

SECTORS = ["education", "health", "policing", "local-services", "public"]
WORK_ADDRESS = "mary.seacole@nhs.net"
VERIFIED_ON = datetime(2026, 3, 12, 10, 0, tzinfo=UTC)

# Sentences every page with the sign-up form shows (templates/pledge/_sign_form.html, forms.py).
SIGN_FORM = [
    "Full name",
    "Email address",
    "We will send you a link to confirm your signature.",
    "Postcode (optional)",
    "We keep only the first half, like SW1A, to count signatures by area.",
    "Your union (optional)",
    "If you are a union member, your signature also counts for your union.",
    "Not in a union, or prefer not to say",
    "We will email you a link to confirm your signature.",
    "Read our privacy notice to see how we look after your details.",
]


def words(page: str) -> str:
    """What a person reads on a page: its text (the title too), entities decoded, spaces folded."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    text = re.sub(r"</?(a|span|code|strong|em)\b[^>]*>", "", text)  # inline: no break in the sentence
    text = re.sub(r"<[^>]+>", " ", text)
    return " ".join(html.unescape(text).split())


def assert_welsh(english, welsh, sentences: list[str]) -> None:
    """The Welsh response is a Welsh page and reads none of `sentences`, which the English one reads."""
    assert '<html lang="cy">' in welsh.text
    assert '<html lang="en-GB">' in english.text
    english_words, welsh_words = words(english.text), words(welsh.text)
    assert [s for s in sentences if s not in english_words] == []  # else the check below proves nothing
    assert [s for s in sentences if s in welsh_words] == []


def assert_welsh_twin(client, path: str, sentences: list[str], status: int = 200):
    """GET path in English and in Welsh; both answer status; returns the Welsh response."""
    english, welsh = client.get(path), client.get(f"/cy{path}")
    assert (english.status_code, welsh.status_code) == (status, status), path
    assert_welsh(english, welsh, sentences)
    return welsh


def manage_token(keys, signature) -> str:
    return tokens.make_token(keys.token_key, tokens.MANAGE, signature.id, signature.token_nonce)


def mark_verified(signature) -> None:
    """The signature verified with a work address on VERIFIED_ON, as pressing the link's button records it."""
    signature.verified_at = VERIFIED_ON
    signature.verified_sector_id = signature.sector_id
    adjust_verified(db.session, signature, +1, utcnow())
    db.session.commit()


# Public pages ----------------------------------------------------------------------------------------


def test_home_page(app, client, make_signature):
    make_signature(email="ada@example.com", sector="health", union="neu", status=SignatureStatus.CONFIRMED)
    welsh = assert_welsh_twin(
        client,
        "/",
        [
            "1 people have signed.",
            "Sign as part of your sector",
            "Choose the group you belong to. Every signature counts towards the total.",
            "– sign the pledge",
            "health and care workers have signed of a goal of",
            "Why it matters",
            "What public services share with immigration enforcement",
            "The report's recommendations",
            "Union members",
            "Tell us your union when you sign and your signature counts for it too.",
        ],
    )
    assert "Mae 1 person wedi llofnodi." in words(welsh.text)  # the plural form for one


def test_home_page_with_paper_verified_and_a_milestone(app, client, make_signature, sector_id):
    signature = make_signature(email="ada@example.com", sector="health", status=SignatureStatus.CONFIRMED)
    mark_verified(signature)
    recorder = paper.Recorder(audit.Actor(None, "admin@example.org"), True, None)
    paper.record_tally(
        db.session, recorder, paper.TallyDetails("Cardiff meeting", date.today(), sector_id("health"), None, 40)
    )
    db.session.add(ReachedMilestone(scope="total", step=1, reached_at=VERIFIED_ON))
    db.session.commit()
    welsh = assert_welsh_twin(
        client,
        "/",
        [
            "people have signed online and 40 on paper.",
            "including 1 verified health and care workers who confirmed a work email address",
            "Latest milestone:",
            "12 March 2026",
        ],
    )
    text = words(welsh.text)
    assert "Mae 1 person wedi llofnodi ar-lein a 40 ar bapur." in text
    assert "12 Mawrth 2026" in text  # the milestone's date, from Python, in Welsh


@pytest.mark.parametrize("slug", SECTORS)
def test_each_sectors_sign_up_page(client, slug):
    assert_welsh_twin(client, f"/sign/{slug}", ["The pledge", "have signed of a goal of", *SIGN_FORM])


@pytest.mark.parametrize("slug", ["neu", "unison", "other"])
def test_union_pages(client, slug):
    org = content_loader.organisation(slug)
    members = (
        ["members of other unions have signed", "Members of other unions: sign the pledge"]
        if slug == "other"
        else [f"{org['short_name']} members have signed", f"{org['name']} members"]
    )
    assert_welsh_twin(
        client,
        f"/unions/{slug}",
        [*members, "The pledge", "Sign as ", "Work somewhere else? Sign as", *SIGN_FORM],
    )


def test_recommendations(client):
    welsh = assert_welsh_twin(client, "/recommendations", ["What the report recommends", "have signed."])
    assert "wedi llofnodi." in words(welsh.text)


@pytest.mark.parametrize("area", [a["slug"] for a in content_loader.load_yaml("recommendations", "en")["areas"]])
def test_each_recommendation_area(client, area):
    assert_welsh_twin(client, f"/recommendations/{area}", ["Recommendations:", "Add your name", "have signed"])


@pytest.mark.parametrize("name", ["about", "privacy", "data-sharing"])
def test_content_pages(client, name):
    welsh = assert_welsh_twin(client, f"/{name}", ["Sign the pledge"])
    if (content_loader.CONTENT_DIR / "pages" / f"{name}.cy.md").exists():  # the page's own words
        assert f"<h1>{content_loader.page(name, language='en')[0]}</h1>" not in html.unescape(welsh.text)


def test_paused_signing(client, runner):
    runner.invoke(args=["signing", "pause"])
    assert_welsh_twin(client, "/", ["Signing is paused for a short while.", "Please come back later"])
    assert_welsh_twin(
        client, "/sign/education", ["Signing is paused", "We have paused new signatures for a short while."]
    )


# Signing up in Welsh --------------------------------------------------------------------------------


def post_form(client, page: str, action: str | None = None, **fields):
    """Open a page and send its form, with the page's CSRF token, to action (the page itself by default)."""
    return client.post(action or page, data={"csrf_token": csrf_token(client.get(page).text), **fields})


def sign(client, path: str, **fields):
    return post_form(client, path, **{"name": "Grace Hopper", "email": "grace@example.com", **fields})


def test_a_welsh_sign_up_with_mistakes_is_told_them_in_welsh(client):
    bad = {"name": "", "email": "not-an-address", "postcode": "ZZ"}
    english, welsh = sign(client, "/sign/education", **bad), sign(client, "/cy/sign/education", **bad)
    assert (english.status_code, welsh.status_code) == (400, 400)
    assert_welsh(
        english,
        welsh,
        [
            "Error:",
            "There is a problem",
            "Enter your name.",
            "Enter an email address in the correct format, like name@example.com.",
            "Enter a full UK postcode, like SW1A 1AA, or leave it blank.",
        ],
    )
    text = words(welsh.text)
    assert "Mae problem wedi codi" in text and "Gwall:" in text
    assert "Rhowch eich enw." in text
    assert "Rhowch gyfeiriad e-bost yn y fformat cywir" in text
    assert db.session.execute(select(Signature)).first() is None


def test_welsh_length_and_web_address_errors(client):
    too_long = {"name": "x" * 101}
    english, welsh = sign(client, "/sign/education", **too_long), sign(client, "/cy/sign/education", **too_long)
    assert_welsh(english, welsh, ["Your name must be 100 characters or fewer."])
    assert "Rhaid i'ch enw fod yn 100 nod neu lai." in words(welsh.text)
    link = {"name": "Visit example.com"}
    english, welsh = sign(client, "/sign/education", **link), sign(client, "/cy/sign/education", **link)
    assert_welsh(english, welsh, ["Enter your name without a web address."])


def test_a_welsh_sign_up_is_told_to_check_their_email_in_welsh_and_recorded_in_welsh(client):
    response = sign(client, "/cy/sign/education")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/cy/sign/education/check-email")
    assert_welsh_twin(
        client,
        "/sign/education/check-email",
        [
            "Check your email",
            "Your signature counts once you confirm it.",
            "Not arrived?",
            "It can take a few minutes. Check your spam or junk folder.",
            "Still nothing? Try again, checking the address carefully.",
        ],
    )
    assert db.session.execute(select(Signature.language)).scalar_one() == "cy"


def test_an_english_sign_up_is_recorded_in_english(client):
    assert sign(client, "/sign/education").status_code == 303
    assert db.session.execute(select(Signature.language)).scalar_one() == "en"


def test_confirming_in_welsh_keeps_welsh(client, confirm_via_page, confirm_token):
    sign(client, "/cy/sign/health")
    signature = db.session.execute(select(Signature)).scalar_one()
    response = confirm_via_page(f"/cy/confirm/{confirm_token(signature)}")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/cy/thank-you/health")
    db.session.refresh(signature)
    assert (signature.status, signature.language) == (SignatureStatus.CONFIRMED, "cy")
    thanks = client.get(response.headers["Location"])
    assert '<html lang="cy">' in thanks.text
    assert "Diolch: mae eich llofnod wedi'i gadarnhau" in words(thanks.text)
    assert "Ydych chi'n gweithio ym maes iechyd a gofal?" in words(thanks.text)  # the work-email offer


def test_confirming_in_english_makes_it_english(client, confirm_via_page, confirm_token):
    sign(client, "/cy/sign/education")
    signature = db.session.execute(select(Signature)).scalar_one()
    assert confirm_via_page(f"/confirm/{confirm_token(signature)}").status_code == 303
    db.session.refresh(signature)
    assert (signature.status, signature.language) == (SignatureStatus.CONFIRMED, "en")


# The pages a signer reaches from our emails -------------------------------------------------------


def test_confirmation_page(client, make_signature, confirm_token):
    signature = make_signature(union="neu", postcode="CF10")
    welsh = assert_welsh_twin(
        client,
        f"/confirm/{confirm_token(signature)}",
        [
            "Confirm your signature",
            "This is what we will record when you press the button. Correct your name if you need to.",
            "Postcode area",
            "Sector or union not right? Fill in the sign-up form again with the right details",
            "Nothing counts until you confirm.",
            "Your choices",
            "Both are optional. You can change them at any time from the link in our emails.",
            "Confirm my signature",
        ],
    )
    assert "Undeb Addysg Cenedlaethol" in words(welsh.text) or "National Education Union" in words(welsh.text)


def test_confirmation_page_when_the_details_changed(client, make_signature, make_signup, org_id, confirm_token):
    signature = make_signature(union="neu")
    path = f"/cy/confirm/{confirm_token(signature)}"
    page = client.get(path).text
    shown = dict(re.findall(r'<input[^>]*name="(csrf_token|name|shown_\w+)"[^>]*value="([^"]*)"', page))
    make_signup(organisation_id=org_id("unison"))  # signed again meanwhile
    response = client.post(path, data={k: html.unescape(v) for k, v in shown.items()})
    assert response.status_code == 409
    text = words(response.text)
    assert "Mae eich manylion wedi newid" in text
    assert "Your details have changed" not in text and "Someone signed again" not in text


def test_already_confirmed_page(client, make_signature, confirm_token):
    signature = make_signature(status=SignatureStatus.CONFIRMED)
    assert_welsh_twin(
        client,
        f"/confirm/{confirm_token(signature)}",
        ["Your signature is already confirmed", "Thank you: it is counted.", "See the count and share the pledge"],
    )


def test_manage_page_confirmed_and_verified(client, keys, make_signature):
    signature = make_signature(sector="health", union="neu", status=SignatureStatus.CONFIRMED)
    mark_verified(signature)
    welsh = assert_welsh_twin(
        client,
        f"/manage/{manage_token(keys, signature)}",
        [
            "Manage your signature",
            "Your signature is confirmed and counted.",
            "Your choices",
            "Save my choices",
            "Verified as a health and care worker",
            "You verified your signature with a work email on 12 March 2026.",
            "Your data",
            "Download everything we hold about you (a JSON file).",
            "Withdraw your signature",
            "This cannot be undone, but you can sign again later.",
            "Withdraw and erase my signature",
        ],
    )
    assert "12 Mawrth 2026" in words(welsh.text)


def test_manage_page_pending_and_unlisted_union(client, keys, make_signature):
    pending = make_signature(email="pending@example.com")
    assert_welsh_twin(
        client,
        f"/manage/{manage_token(keys, pending)}",
        [
            "Your signature is waiting for you to confirm it from our email.",
            "Until then we send you no campaign updates and share nothing with any union.",
        ],
    )
    other = make_signature(email="other@example.com", union="other", status=SignatureStatus.CONFIRMED)
    assert_welsh_twin(
        client,
        f"/manage/{manage_token(keys, other)}",
        ["We cannot share your details with another union because it is not on our list"],
    )


def test_a_choice_the_service_refuses_is_explained_in_welsh(client, keys, make_signature):
    pending = make_signature()
    path = f"/manage/{manage_token(keys, pending)}"
    responses = [
        post_form(client, f"{prefix}{path}", f"{prefix}{path}/consents", consent_updates="y") for prefix in ("", "/cy")
    ]
    assert [r.status_code for r in responses] == [400, 400]
    assert_welsh(*responses, ["We could not save your choices", "Confirm your signature first"])
    assert "Cadarnhewch eich llofnod yn gyntaf" in words(responses[1].text)


def test_unsubscribe_pages(client, keys, make_signature):
    signature = make_signature(status=SignatureStatus.CONFIRMED, updates=True)
    path = f"/manage/{manage_token(keys, signature)}/unsubscribe"
    assert_welsh_twin(
        client,
        path,
        [
            "Stop campaign updates",
            "Press the button and we will not send you campaign updates. Your signature still counts.",
            "Stop updates",
            "to withdraw it or change other choices.",
        ],
    )
    assert_welsh(
        client.post(path),
        client.post(f"/cy{path}"),
        ["You will not get campaign updates", "Your signature still counts."],
    )


def test_update_unsubscribe_pages(client, keys, make_signature):
    signature = make_signature(status=SignatureStatus.CONFIRMED, updates=True)
    item = updates.save_draft(
        db.session, audit.Actor(None, "cli"), subject="News", body_markdown="News.", audience=Audience()
    )
    path = f"/updates/{item.id}/unsubscribe/{unsubscribe_token(keys, item.id, signature)}"
    assert_welsh_twin(
        client,
        path,
        ["Stop campaign updates", "Your signature still counts, and nothing else changes.", 'use the "Manage your'],
    )
    assert_welsh(client.post(path), client.post(f"/cy{path}"), ["You will not get campaign updates"])


def test_withdrawn_page(client):
    assert_welsh_twin(
        client,
        "/withdrawn",
        [
            "Your signature has been withdrawn",
            "We have removed it from the count and erased your name and email address.",
            "If you change your mind, you can sign again at any time.",
        ],
    )


def test_thank_you_page(client, add_to_area):
    for outward, how_many in {"CF10": 12, "LL11": 2, "M1": 2}.items():  # enough elsewhere to show Cardiff's
        add_to_area(outward, how_many)
    welsh = assert_welsh_twin(
        client,
        "/thank-you/education?region=wales&area=CF",
        [
            "Thank you: your signature is confirmed",
            "16 people have signed.",
            "12 people in Cardiff have signed.",
            "See support by region",
            "Ask others to sign",
            "Every signature makes the case stronger. Share the pledge:",
            "Share the pledge",
            "Or copy this link:",
            "Read what the report recommends",
        ],
    )
    assert "Sign the Care Don't Share pledge" not in welsh.text  # the share sheet's title (an attribute)
    assert "http://localhost/cy/sign/education" in welsh.text  # the Welsh page shares the Welsh form


@pytest.fixture
def add_to_area(sector_id):
    """Confirmed signatures straight into the counters, as confirmations would add them."""

    def add(outward: str, how_many: int) -> None:
        adjust_count(db.session, sector_id("education"), None, how_many, utcnow(), postcode_outward=outward, shard=0)
        db.session.commit()

    return add


# Verifying with a work email ------------------------------------------------------------------------


def test_work_email_form_and_its_errors(client, keys, make_signature):
    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    path = f"/work-email/{offer_token(keys, signature)}"
    assert_welsh_twin(
        client,
        path,
        [
            "Do you work in health and care? Verify with your work email",
            "We count signatures verified with a work address separately",
            "We send one link to the address.",
            "Work email address",
            "We send one link to it, then erase it. We never keep the address or its domain.",
            "Send me a link",
        ],
    )
    refused = [post_form(client, f"{prefix}{path}", work_email="mary@gmail.com") for prefix in ("", "/cy")]
    assert [r.status_code for r in refused] == [400, 400]
    assert_welsh(*refused, ["There is a problem", "We cannot verify that address. Use your work email address:"])
    assert "Ni allwn ddilysu'r cyfeiriad hwnnw." in words(refused[1].text)
    sent = post_form(client, f"/cy{path}", work_email=WORK_ADDRESS)
    assert sent.status_code == 200
    english_sent = post_form(client, path, work_email=WORK_ADDRESS)
    assert_welsh(
        english_sent,
        sent,
        [
            "Check your work email",
            "Open the link within 24 hours and press the button on the page it opens.",
            "Not arrived?",
            "Each work address can verify one signature",
        ],
    )


def test_work_email_pages_for_a_verified_signature(client, keys, make_signature):
    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    link = f"/work-email/verify/{link_token(keys, signature, b'k' * 32, int(time.time()))}"
    assert_welsh_twin(
        client,
        link,
        [
            "Verify your work email",
            "Verify that you work in health and care",
            "Press the button to confirm that this work email address is yours.",
            "Verify my work email",
        ],
    )
    form = {"csrf_token": csrf_token(client.get(link).text)}  # the second press finds the page has no form
    pressed = [client.post(f"{prefix}{link}", data=form) for prefix in ("", "/cy")]
    assert [r.status_code for r in pressed] == [200, 200]
    assert_welsh(
        *pressed, ["Thank you: your signature is verified", "It now counts among verified", "Back to the pledge"]
    )
    db.session.refresh(signature)
    signature.verified_at = VERIFIED_ON
    db.session.commit()
    welsh = assert_welsh_twin(
        client, f"/work-email/{offer_token(keys, signature)}", ["Your signature was verified as a health and care"]
    )
    assert "12 Mawrth 2026" in words(welsh.text)


def test_a_sector_without_verification_says_so_in_welsh(client, keys, make_signature):
    signature = make_signature(sector="public", status=SignatureStatus.CONFIRMED)
    welsh = assert_welsh_twin(
        client,
        f"/work-email/{offer_token(keys, signature)}",
        ["We cannot verify this signature", "We do not verify signatures in the"],
        status=400,
    )
    assert "Nid ydym yn dilysu llofnodion" in words(welsh.text)


# Error pages -----------------------------------------------------------------------------------------


def test_page_not_found(client):
    welsh = assert_welsh_twin(
        client, "/no-such-page", ["Page not found", "Check the address, or start again", "Go to the home page"], 404
    )
    assert "Heb ddod o hyd i'r dudalen" in words(welsh.text)


def test_bad_and_expired_links(app, client, keys, make_signature):
    assert_welsh_twin(
        client, "/confirm/not-a-token", ["This link is not valid", "Check that you copied the whole link"], 404
    )
    signature = make_signature()
    days = app.config["CONFIRM_TOKEN_MAX_AGE_DAYS"] + 1
    old = tokens.make_token(
        keys.token_key, tokens.CONFIRM, signature.id, signature.token_nonce, time.time() - days * 86400
    )
    assert_welsh_twin(client, f"/confirm/{old}", ["This link has expired", "Sign the pledge again"], 410)


def test_a_form_without_its_security_code_and_a_wrong_method(client):
    responses = [client.post(f"{prefix}/sign/education", data={"name": "Grace"}) for prefix in ("", "/cy")]
    assert [r.status_code for r in responses] == [400, 400]
    assert_welsh(*responses, ["Your form could not be sent", "This form had expired or was missing its security code"])
    responses = [client.post(f"{prefix}/recommendations") for prefix in ("", "/cy")]
    assert [r.status_code for r in responses] == [405, 405]
    assert_welsh(*responses, ["That did not work", "This page cannot be used that way."])
