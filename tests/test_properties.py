"""Hostile input, property-based: the sign-up form never fails, whatever is typed or sent, and
the email and postcode normalisers keep their promises (idempotent, stable dedup keys)."""

from __future__ import annotations

import itertools
import re
import unicodedata
from urllib.parse import quote, urlencode

import pytest
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, assume, event, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.extensions import db
from app.models import Signature
from app.services.keys import Keys
from app.services.normalise import (
    CONTROL_CHARS,
    InvalidInput,
    canonical_email,
    clean_name,
    normalise_email,
    normalise_postcode,
)
from tests.forms import csrf_token

SECTORS = ["education", "health", "policing", "local-services", "public"]
UNIONS = ["neu", "unison", "rcn", "bma", "nasuwt", "naht", "ucu", "unite", "gmb", "pcs", "other"]
# Written out here rather than imported, so the test checks the module's pattern too.
UK_POSTCODE = re.compile(r"(GIR 0AA|[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2})", re.ASCII)
OUTWARD = re.compile(r"(GIR|[A-Z]{1,2}[0-9][A-Z0-9]?)", re.ASCII)
SOURCE = re.compile(r"[A-Za-z0-9_.-]{1,64}", re.ASCII)
MAX_BODY = 16 * 1024
XSS = "<script>alert(1)</script>"
CLIENT_ADDRESSES = (f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}" for n in itertools.count(1))
FORM_FIELDS = ("name", "email", "postcode", "organisation", "source", "consent_updates", "consent_share_union")

KEYS = Keys.from_config(
    {"SECRET_KEY": "properties", "ENCRYPTION_KEY": Fernet.generate_key().decode(), "BLIND_INDEX_KEY": "properties"}
)
NORMALISER = settings(max_examples=300, deadline=None, database=None)
FORM = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def dedup_key(address: str) -> bytes:
    return KEYS.cipher.blind_index(canonical_email(address))


def accepted(function, value):
    """The normaliser's result, or None if it rejects the value with InvalidInput."""
    try:
        return function(value)
    except InvalidInput:
        return None


# ---- strategies

hostile_samples = st.sampled_from(
    [
        "",
        " ",
        "\t\n",
        "\u3000",  # ideographic space: whitespace to str.strip()
        "\x00",
        "a\x00b",
        "\u202eevil",
        "\ufeff",
        "\u200b",
        "\ud7ff\ue000\U0010ffff",
        XSS,
        "' OR 1=1 --",
        '=HYPERLINK("http://x")',
        "ada@example.com\r\nBcc: eve@example.com",
        "+@gmail.com",
        ".@gmail.com",
        "\u00b8@example.com",
        "null",
        "true",
        "-1",
        "%00",
        "../../etc/passwd",
        "SW1A 1AA" * 3,
    ]
)
huge_text = st.builds(
    lambda char, n: char * n, st.sampled_from(["a", "é", "😀", "\x00", " ", "<", "+"]), st.integers(50, 20_000)
)
hostile_value = st.one_of(
    st.text(max_size=300),
    st.text(st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "So"]), max_size=40),
    hostile_samples,
    huge_text,
    st.binary(max_size=60),  # arbitrary bytes, percent-encoded: not necessarily UTF-8
    st.lists(st.text(max_size=20), min_size=2, max_size=3),  # the field sent more than once
    st.none(),  # the field left out
)

names = st.one_of(
    st.sampled_from(["Ada Lovelace", "Siobhán Ní Bhriain", "Łukasz Żółć", "李小龍", "O'Brien-Smith"]),
    st.text(st.characters(categories=["L"]), min_size=1, max_size=60),
)
emails = st.one_of(
    st.sampled_from(["ada@example.com", "A.Da+pledge@GoogleMail.com", "josé@bücher.example", "grace@nhs.net"]),
    st.emails(),
).filter(lambda address: accepted(canonical_email, address) is not None)
postcodes = st.one_of(
    st.just(""),
    st.from_regex(r"[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}", fullmatch=True),
    st.sampled_from(["sw1a 1aa", " m1 1ae ", "GIR 0AA", "b338th"]),
)


@st.composite
def valid_forms(draw) -> dict:
    """A sign-up every rule allows, with the consent boxes an old or forged form may still send:
    the form asks for no consents, so whatever they say is ignored."""
    return {
        "name": draw(names),
        "email": draw(emails),
        "postcode": draw(postcodes),
        "organisation": draw(st.sampled_from(["", *UNIONS])),
        "source": draw(st.one_of(st.just(""), st.from_regex(SOURCE, fullmatch=True))),
        "consent_updates": draw(st.sampled_from(["", "y"])),
        "consent_share_union": draw(st.sampled_from(["", "y"])),
    }


@st.composite
def submissions(draw) -> tuple[dict, set[str]]:
    """A valid form with some fields (maybe none) replaced by hostile values; and which."""
    form = draw(valid_forms())
    spoiled = draw(st.sets(st.sampled_from(FORM_FIELDS)))
    for field in spoiled:
        form[field] = draw(hostile_value)
    return form, spoiled


slugs = st.one_of(st.sampled_from(SECTORS), st.text(min_size=1, max_size=40), hostile_samples.filter(bool))
query_pairs = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(["org", "source", "utm_source", "sector"]), st.text(max_size=10)),
        st.one_of(st.sampled_from(UNIONS), st.text(max_size=30), hostile_samples),
    ),
    max_size=4,
)


# ---- helpers for the form tests


def form_body(form: dict, token: str) -> bytes:
    """URL-encode like a browser, but keep bytes and repeated fields as given."""
    pairs = [("csrf_token", token)]
    for field, value in form.items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((field, item))
    return urlencode(pairs).encode("ascii")


def as_received(value) -> str | None:
    """The value the app sees for a field: the first one, bytes decoded as Werkzeug does."""
    if isinstance(value, list):
        value = value[0]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value


def sign_path(slug: str, pairs: list[tuple[str, str]]) -> str:
    query = urlencode(pairs)
    return f"/sign/{quote(slug, safe='')}" + (f"?{query}" if query else "")


def first_org(pairs: list[tuple[str, str]]) -> str | None:
    return next((value for key, value in pairs if key == "org"), None)


def not_found(slug: str, org: str | None = None) -> set[int]:
    """An unknown sector or union is a 404. PostgreSQL refuses a NUL byte in a slug outright: 400.
    A slug that makes "//" in the path is redirected (308) to the path with one slash."""
    statuses = {404}
    if "\x00" in slug + (org or ""):
        statuses.add(400)
    if "//" in f"/{slug}":
        statuses.add(308)
    return statuses


def signature_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Signature))


# ---- the sign-up form


@FORM
@given(slug=slugs, pairs=query_pairs)
def test_sign_and_union_pages_answer_200_or_404_for_any_slug_and_query(app, slug, pairs):
    client = app.test_client()
    org = first_org(pairs)
    org_ok = org is None or org in UNIONS
    response = client.get(sign_path(slug, pairs))
    assert response.status_code in ({200} if slug in SECTORS and org_ok else not_found(slug, org))
    union = client.get(f"/unions/{quote(slug, safe='')}" + (f"?{urlencode(pairs)}" if pairs else ""))
    assert union.status_code in ({200} if slug in UNIONS else not_found(slug))
    for page in (response, union):
        assert "Traceback" not in page.text


@FORM
@given(submission=submissions(), slug=st.one_of(st.sampled_from(SECTORS), slugs), pairs=query_pairs)
def test_sign_up_form_answers_303_or_400_whatever_is_sent(app, submission, slug, pairs):
    # A fresh app context per example, so a fresh `g`: Flask-WTF caches the CSRF token there,
    # and the examples must not share one.
    with app.app_context():
        check_sign_up(app, *submission, slug, pairs)


def check_sign_up(app, form: dict, spoiled: set[str], slug: str, pairs: list[tuple[str, str]]) -> None:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = next(CLIENT_ADDRESSES)  # per-address limits stay out of the way
    # The token comes from a real form page; the session cookie ties it to this client.
    token = csrf_token(client.get("/sign/education").text)
    body = form_body(form, token)
    before = signature_count()

    note(f"POST {sign_path(slug, pairs)} {body[:3000]!r}")
    response = client.post(sign_path(slug, pairs), data=body, content_type="application/x-www-form-urlencoded")

    org = first_org(pairs)
    route_ok = slug in SECTORS and (org is None or org in UNIONS)
    status = response.status_code
    event(f"status {status}")
    assert "Traceback" not in response.text
    if len(body) > MAX_BODY:
        assert status in ({413} if route_ok else {413} | not_found(slug, org))
    elif not route_ok:
        assert status in not_found(slug, org)
    elif not spoiled:
        assert status == 303, f"a valid sign-up was refused: {response.text[:2000]}"
    else:
        assert status in (303, 400)
        if status == 400:
            assert 'class="error-summary"' in response.text and "There is a problem" in response.text
    if any(XSS in str(as_received(v)) for v in form.values()):
        assert XSS not in response.text

    db.session.expire_all()
    if status != 303:
        assert signature_count() == before, "a refused submission stored something"
        return
    assert response.headers["Location"].endswith(f"/sign/{slug}/check-email")
    keys = app.extensions["care_keys"]
    key = keys.cipher.blind_index(canonical_email(as_received(form["email"])))
    stored = db.session.execute(select(Signature).where(Signature.email_key == key)).scalar_one()
    name = keys.cipher.decrypt(stored.name_encrypted)
    assert name and len(name) <= 100 and not CONTROL_CHARS.search(name) and name == name.strip()
    assert name == clean_name(as_received(form["name"]))  # the latest submission's details stand until confirmed
    assert stored.postcode_outward is None or OUTWARD.fullmatch(stored.postcode_outward)
    assert stored.source is None or SOURCE.fullmatch(stored.source)
    assert not stored.consent_updates and not stored.consent_share_union  # only confirming gives consent


@pytest.mark.parametrize("blank", [" ", "   ", "\t", "\u3000"])
def test_a_blank_postcode_counts_as_no_postcode(app, blank):
    client = app.test_client()
    token = csrf_token(client.get("/sign/education").text)
    response = client.post(
        "/sign/education", data={"name": "Ada", "email": "ada@example.com", "postcode": blank, "csrf_token": token}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.execute(select(Signature.postcode_outward)).scalar_one() is None


# ---- names


@NORMALISER
@given(st.one_of(names, st.text(max_size=120), hostile_samples))
def test_clean_name_is_idempotent_and_keeps_no_invisible_characters(value):
    cleaned = accepted(clean_name, value)
    assume(cleaned is not None)
    assert clean_name(cleaned) == cleaned
    assert cleaned and len(cleaned) <= 100
    assert not any(unicodedata.category(char) in ("Cc", "Cf") for char in cleaned)


# ---- email normalisation

any_address = st.one_of(
    st.emails(),
    st.text(max_size=60),
    hostile_samples,
    st.builds(
        lambda local, domain: f"{local}@{domain}",
        st.text(st.characters(exclude_characters='@ "\\', codec="utf-8"), min_size=1, max_size=16),
        st.one_of(
            st.sampled_from(["gmail.com", "GoogleMail.com", "outlook.com", "bücher.example", "straße.de"]),
            st.text(st.characters(exclude_characters="@ ", codec="utf-8"), min_size=1, max_size=10).map(
                lambda label: f"{label}.example"
            ),
        ),
    ),
)


@NORMALISER
@given(any_address)
def test_canonical_email_is_idempotent_and_itself_an_address(address):
    canonical = accepted(canonical_email, address)
    assume(canonical is not None)
    assert canonical_email(canonical) == canonical
    assert normalise_email(canonical) == canonical


@NORMALISER
@given(any_address)
def test_normalise_email_and_canonical_email_accept_the_same_addresses(address):
    assert (accepted(normalise_email, address) is None) == (accepted(canonical_email, address) is None)


label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
domains = st.one_of(
    st.builds(
        lambda labels, tld: ".".join([*labels, tld]),
        st.lists(label, min_size=1, max_size=3),
        st.sampled_from(["com", "org", "uk", "co.uk", "nhs.uk", "de", "example"]),
    ),
    st.sampled_from(["bücher.example", "straße.de", "παράδειγμα.gr", "gmail.com", "outlook.com"]),
).filter(lambda domain: accepted(canonical_email, f"a@{domain}") is not None)  # e.g. not "ab--c.com"


def case_changed(text: str, flips: list[bool]) -> str:
    """Upper-case some characters, only where that is a real case change (not 'ı' -> 'I')."""
    return "".join(
        c.upper() if flip and c.upper().lower() == c else c
        for c, flip in zip(text, flips + [False] * len(text), strict=False)
    )


@NORMALISER
@given(
    local=st.from_regex(r"[a-z0-9_-]{1,20}(\.[a-z0-9_-]{1,10}){0,2}", fullmatch=True),
    domain=domains,
    flips=st.lists(st.booleans(), max_size=40),
)
def test_dedup_key_ignores_the_case_of_the_domain(local, domain, flips):
    assert dedup_key(f"{local}@{case_changed(domain, flips)}") == dedup_key(f"{local}@{domain}")


@st.composite
def gmail_spellings(draw, user: str) -> str:
    """The same Gmail mailbox as user@gmail.com: dots anywhere, any case, a +tag, either domain."""
    cuts = sorted(draw(st.sets(st.integers(1, len(user) - 1))) if len(user) > 1 else [])
    dotted = ".".join(user[i:j] for i, j in zip([0, *cuts], [*cuts, len(user)], strict=True))
    local = case_changed(dotted, draw(st.lists(st.booleans(), max_size=40)))
    tag = draw(st.one_of(st.none(), st.text("abcdefghijklmnopqrstuvwxyz0123456789_-+", max_size=12)))
    domain = case_changed(draw(st.sampled_from(["gmail.com", "googlemail.com"])), draw(st.lists(st.booleans())))
    return f"{local}{'' if tag is None else '+' + tag}@{domain}"


@NORMALISER
@given(data=st.data(), user=st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=30))
def test_dedup_key_folds_gmail_dots_tags_case_and_googlemail(data, user):
    spelling = data.draw(gmail_spellings(user))
    assert dedup_key(spelling) == dedup_key(f"{user}@gmail.com")


@NORMALISER
@given(
    first=st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
    second=st.from_regex(r"[a-z0-9]{1,12}", fullmatch=True),
    domain=domains.filter(lambda d: d not in ("gmail.com", "outlook.com")),
)
def test_different_mailboxes_keep_different_keys(first, second, domain):
    assume(first != second)
    assert dedup_key(f"{first}@{domain}") != dedup_key(f"{second}@{domain}")


# ---- postcodes

any_postcode = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\s*[A-Za-z]{1,2}[0-9][A-Za-z0-9]?\s*[0-9][A-Za-z]{2}\s*", fullmatch=True),
    st.sampled_from(["GIR0AA", "gir 0aa", "SW1A", "12345", "ZZZZ ZZZ", "SW1A 1AA1", "ＳＷ１Ａ １ＡＡ", "ﬀ1 1aa"]),
)


@NORMALISER
@given(any_postcode)
def test_postcode_normalisation_is_idempotent_and_uk_shaped(value):
    result = accepted(normalise_postcode, value)
    assume(result is not None)
    full, outward = result
    assert UK_POSTCODE.fullmatch(full), full
    assert full.startswith(outward + " ") and OUTWARD.fullmatch(outward)
    assert normalise_postcode(full) == (full, outward)
    assert normalise_postcode(full.lower().replace(" ", "")) == (full, outward)
