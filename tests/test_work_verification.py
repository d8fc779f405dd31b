"""Verified public-sector workers (issue 12): the domain rules, the journey through the real outbox
and an SMTP server, the cap and rate limit, expiry, one mailbox for one signature, erasure, and
that no table, queued message or log line keeps the work address or its domain."""

from __future__ import annotations

import logging
import re
import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from functools import partial

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from app import content_loader
from app.extensions import Base, db
from app.mail_render import build_message
from app.models import CountCell, OutboxMessage, Signature, SignatureStatus, utcnow
from app.services import tokens
from app.services.consents import update_consents
from app.services.mail_delivery import RetryPolicy, deliver_due
from app.services.mail_transport import transport_from_config
from app.services.signing import withdraw_signature
from app.services.work_verification import (
    LINK_MAX_AGE_SECONDS,
    WORK_VERIFICATION_EMAIL,
    DomainPattern,
    MailboxAlreadyUsed,
    load_rules,
    offer_token,
    verify_work_email,
)
from tests.forms import csrf_token

WORK_ADDRESS = "Mary.Seacole@whittington-example.nhs.uk"
WORK_DOMAIN = "whittington-example.nhs.uk"
NONE_VERIFIED = (0, {"education": 0, "health": 0, "policing": 0, "local-services": 0, "public": 0})


@pytest.fixture
def rules():
    return load_rules(content_loader.load_yaml("work_domains"))


# The domain rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain",
    ["nhs.net", "NHS.NET", "trust.nhs.uk", "a.b.wales.nhs.uk", "nhs.scot", "board.nhs.scot", "hscni.net"],
)
def test_health_accepts_nhs_domains_exact_and_by_suffix(rules, domain):
    assert rules["health"].accepts(domain)


@pytest.mark.parametrize(
    "domain",
    [
        "nhs.net.evil.example",  # the rule's domain as a prefix
        "evilnhs.net",  # glued on without a dot
        "evil-nhs.net",
        "nhs.uk",  # a suffix rule matches below the domain, not the domain itself
        "evilnhs.uk",
        "nhs.uk.example.com",
        "xn--nhs-9cd.net",  # an IDN look-alike, compared in its ASCII form
        "example.com",
        "",
    ],
)
def test_health_refuses_look_alikes(rules, domain):
    assert not rules["health"].accepts(domain)


def test_a_look_alike_in_another_script_is_compared_as_what_it_is(client, app, keys, make_signature):
    signature = make_signature(email="ada@example.com", sector="health", status=SignatureStatus.CONFIRMED)
    response = request_work(client, offer_path(keys, signature), "mary@n\u04bbs.net")  # Cyrillic shha for h
    assert response.status_code == 400
    assert "nhs.net" in response.text  # the message lists what is accepted
    assert queued_verifications() == 0


def test_each_sector_has_its_rules_and_public_has_none(rules):
    assert rules["education"].accepts("st-marys.lancs.sch.uk") and rules["education"].accepts("ucl.ac.uk")
    assert not rules["education"].accepts("sch.uk.example.org")
    assert rules["policing"].accepts("pnn.police.uk") and rules["policing"].accepts("met.police.uk")
    assert not rules["policing"].accepts("police.uk.example.com")
    assert rules["local-services"].accepts("camden.gov.uk") and rules["local-services"].accepts("fife.gov.scot")
    assert not rules["local-services"].accepts("homeoffice.gov.uk")  # refused before accepted
    assert not rules["local-services"].accepts("digital.homeoffice.gov.uk")
    assert "public" not in rules
    assert set(rules) <= {s["slug"] for s in content_loader.sectors()}


def test_every_rule_says_where_it_comes_from():
    for slug, entry in content_loader.load_yaml("work_domains").items():
        for rule in entry["rules"] + (entry.get("refused") or []):
            assert rule.get("note", "").strip(), (slug, rule)


@pytest.mark.parametrize("rule", ["*nhs.net", "nhs", "*.*.nhs.uk", "NHS .net", "nhs.net.", "ñhs.net"])
def test_malformed_rules_are_refused_when_loaded(rule):
    with pytest.raises(ValueError):
        DomainPattern.parse(rule, "a note")


# The journey, end to end through the outbox, the worker and a real SMTP server ----------------


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp(app):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT_SECONDS=2)
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    yield collector
    controller.stop()


def deliver(app):
    return deliver_due(
        db.session,
        partial(build_message, keys=app.extensions["care_keys"]),
        transport_from_config(app.config),
        RetryPolicy.from_config(app.config),
    )


def received(collector) -> list:
    return [message_from_bytes(raw, policy=policy.default) for raw in collector.messages]


def link_in(message, path: str) -> str:
    body = message.get_body(("plain",)).get_content()
    match = re.search(rf"https?://\S+?(/{path}/[A-Za-z0-9._-]+)", body)
    assert match, f"no /{path}/ link in the email"
    return match.group(1)


def offer_path(keys, signature) -> str:
    return "/work-email/" + offer_token(keys, signature)


def request_work(client, path: str, address: str):
    """Send the form; for a signature already verified (its page has no form), as a replayed form would."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    if "csrf_token" not in page.text:
        assert "There is nothing more to do" in page.text
        page = client.get("/sign/education")
    return client.post(path, data={"work_email": address, "csrf_token": csrf_token(page.text)})


def press(client, path: str):
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return client.post(path, data={"csrf_token": csrf_token(page.text)})


def queued_verifications() -> int:
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == WORK_VERIFICATION_EMAIL)
    )


def verified_counts(client) -> tuple[int, dict[str, int]]:
    document = client.get("/api/v1/counts").get_json()
    return document["verified_total"], {s["slug"]: s["verified"] for s in document["sectors"]}


def test_a_health_worker_signs_confirms_and_verifies_with_a_work_address(
    app, client, smtp, sign_via_form, confirm_via_page
):
    assert sign_via_form("health", email="mary@example.com", name="Mary Seacole").status_code == 303
    deliver(app)
    (confirmation,) = received(smtp)
    confirmed = confirm_via_page(link_in(confirmation, "confirm"))
    assert confirmed.status_code == 303
    thank_you = client.get(confirmed.headers["Location"])
    assert "Do you work in health and care?" in thank_you.text
    assert thank_you.headers["Cache-Control"] == "no-store"  # it carries a personal link
    form_path = re.search(r'href="(/work-email/[^"]+)"', thank_you.text).group(1)
    assert "Verify with your work email" in thank_you.text

    response = request_work(client, form_path, WORK_ADDRESS)
    assert response.status_code == 200
    assert "Check your work email" in response.text
    assert smtp.messages[1:] == []  # never sent in the request
    assert deliver(app).sent == 1
    (work_mail,) = received(smtp)[1:]
    assert work_mail["To"] == WORK_ADDRESS
    assert "List-Unsubscribe" not in work_mail  # a one-off, not a mailing
    body = work_mail.get_body(("plain",)).get_content()
    assert "Mary" not in body and "mary@example.com" not in body and "/manage/" not in body
    assert "24 hours" in body

    verify_path = link_in(work_mail, "work-email/verify")
    page = client.get(verify_path)  # a mail scanner opening the link changes nothing
    assert "Verify my work email" in page.text
    assert verified_counts(client) == NONE_VERIFIED
    done = press(client, verify_path)
    assert done.status_code == 200 and "your signature is verified" in done.text
    assert verified_counts(client)[0] == 1 and verified_counts(client)[1]["health"] == 1

    signature = db.session.execute(select(Signature)).scalar_one()
    assert signature.verified_at is not None and signature.verified_sector_id == signature.sector_id
    assert signature.work_mailbox_key is not None
    again = client.post(verify_path, data={"csrf_token": csrf_token(page.text)})  # pressed twice
    assert again.status_code == 200 and verified_counts(client)[0] == 1
    assert "already verified" in client.get(verify_path).text

    manage = client.get(link_in(confirmation, "manage"))
    assert "Verified as a health and care worker" in manage.text
    data = client.get(link_in(confirmation, "manage") + "/data.json").get_json()
    assert data["work_email_verification"]["verified"] is True
    assert data["work_email_verification"]["sector"] == "health"
    assert WORK_DOMAIN not in str(data)


def test_manage_page_offers_verification_to_a_confirmed_signer_in_a_sector_with_rules(
    client, keys, make_signature, confirm_token
):
    pending = make_signature(email="pending@example.com", sector="health")
    manage = tokens.make_token(keys.token_key, tokens.MANAGE, pending.id, pending.token_nonce)
    assert "Verify with your work email" not in client.get(f"/manage/{manage}").text
    confirmed = make_signature(email="ada@example.com", sector="policing", status=SignatureStatus.CONFIRMED)
    manage = tokens.make_token(keys.token_key, tokens.MANAGE, confirmed.id, confirmed.token_nonce)
    page = client.get(f"/manage/{manage}")
    assert "Do you work in policing?" in page.text and "Verify with your work email" in page.text
    public = make_signature(email="pub@example.com", sector="public", status=SignatureStatus.CONFIRMED)
    manage = tokens.make_token(keys.token_key, tokens.MANAGE, public.id, public.token_nonce)
    assert "Verify with your work email" not in client.get(f"/manage/{manage}").text


def test_the_public_sector_has_no_verification(client, keys, make_signature):
    signature = make_signature(sector="public", status=SignatureStatus.CONFIRMED)
    response = client.get(offer_path(keys, signature))
    assert response.status_code == 400
    assert "do not verify" in response.text


def test_an_unconfirmed_signature_cannot_ask(client, keys, make_signature):
    signature = make_signature(sector="health")
    assert client.get(offer_path(keys, signature)).status_code == 409


def test_a_domain_that_does_not_match_is_told_what_is_accepted_and_nothing_is_sent(
    client, keys, make_signature, mailbox
):
    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    mailbox.messages()  # the confirmation
    for address in ("mary@nhs.net.evil.example", "mary@evilnhs.net", "mary@example.com"):
        response = request_work(client, offer_path(keys, signature), address)
        assert response.status_code == 400
        assert "We cannot verify that address" in response.text
        assert "nhs.net" in response.text and ".nhs.uk" in response.text
        assert 'aria-invalid="true"' in response.text
    assert queued_verifications() == 0
    db.session.refresh(signature)
    assert signature.work_emails_queued == 0


@pytest.mark.parametrize(
    ("address", "message"),
    [("", "Enter your work email address."), ("not an address", "correct format"), ("a" * 250 + "@nhs.net", "254")],
)
def test_bad_input_gets_a_400_with_a_message(client, keys, make_signature, address, message):
    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    response = request_work(client, offer_path(keys, signature), address)
    assert response.status_code == 400 and message in response.text
    assert queued_verifications() == 0


def test_at_most_three_verification_emails_per_signature(client, keys, make_signature):
    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    for n in range(5):
        response = request_work(client, offer_path(keys, signature), f"worker{n}@nhs.net")
        assert response.status_code == 200 and "Check your work email" in response.text
    assert queued_verifications() == 3


def test_requests_over_the_address_rate_limit_send_nothing(app, client, keys, make_signature):
    app.config["RATELIMIT_WORK_EMAIL"] = "2 per minute"
    first = make_signature(email="a@example.com", sector="health", status=SignatureStatus.CONFIRMED)
    second = make_signature(email="b@example.com", sector="health", status=SignatureStatus.CONFIRMED)
    pages = [
        request_work(client, offer_path(keys, first), "one@nhs.net"),
        request_work(client, offer_path(keys, second), "two@nhs.net"),
        request_work(client, offer_path(keys, second), "three@nhs.net"),
    ]
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert len({same_page(p) for p in pages}) == 1  # the same page whatever happened
    assert queued_verifications() == 2


def test_links_expire_after_24_hours(app, client, keys, make_signature, mailbox):
    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    request_work(client, offer_path(keys, signature), WORK_ADDRESS)
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.kind == WORK_VERIFICATION_EMAIL)
        .values(created_at=utcnow() - timedelta(seconds=LINK_MAX_AGE_SECONDS + 60))
    )
    db.session.commit()
    work_mail = mailbox.messages()[-1]
    path = mailbox.link(work_mail, "work-email/verify")
    page = client.get(path)
    assert page.status_code == 410 and "24 hours" in page.text
    assert client.post(path, data={}).status_code in (400, 410)
    db.session.refresh(signature)
    assert signature.verified_at is None


def test_a_link_used_just_inside_24_hours_works(app, client, keys, make_signature, mailbox):
    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    request_work(client, offer_path(keys, signature), WORK_ADDRESS)
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.kind == WORK_VERIFICATION_EMAIL)
        .values(created_at=utcnow() - timedelta(seconds=LINK_MAX_AGE_SECONDS - 120))
    )
    db.session.commit()
    path = mailbox.link(mailbox.messages()[-1], "work-email/verify")
    assert press(client, path).status_code == 200
    db.session.refresh(signature)
    assert signature.verified_at is not None


def test_tampered_links_get_a_clear_404(client, keys, make_signature, mailbox):
    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    request_work(client, offer_path(keys, signature), WORK_ADDRESS)
    path = mailbox.link(mailbox.messages()[-1], "work-email/verify")
    sig, issued, key, mac = path.rsplit("/", 1)[1].split(".")
    other_key = ("A" if key[0] != "A" else "B") + key[1:]
    for bad in (
        f"{sig}.{issued}.{other_key}.{mac}",
        f"{sig}.{int(issued, 16) + 1:x}.{key}.{mac}",
        "nonsense",
        path[-5:],
    ):
        response = client.get(f"/work-email/verify/{bad}")
        assert response.status_code == 404 and "not valid" in response.text
    assert client.get("/work-email/" + "1.2." + "x" * 43).status_code == 404
    db.session.refresh(signature)
    assert signature.verified_at is None


def same_page(response) -> str:
    """The page without its own address (its language links hold it), to compare pages for different links."""
    return re.sub(r"/work-email/[\w.-]+", "/work-email/...", response.text)


# One work mailbox, one signature --------------------------------------------------------------


def test_one_work_mailbox_verifies_one_signature(client, keys, make_signature, mailbox):
    first = make_signature(email="a@example.com", sector="health", status=SignatureStatus.CONFIRMED)
    second = make_signature(email="b@example.com", sector="health", status=SignatureStatus.CONFIRMED)
    mailbox.messages()
    sent = request_work(client, offer_path(keys, first), WORK_ADDRESS)
    assert press(client, mailbox.link(mailbox.messages()[-1], "work-email/verify")).status_code == 200
    before = queued_verifications()
    # The same mailbox, spelt differently, from another signature and from the same one.
    again = request_work(client, offer_path(keys, second), WORK_ADDRESS.upper())
    same = request_work(client, offer_path(keys, first), WORK_ADDRESS)
    assert same_page(again) == same_page(sent) == same_page(same)  # the same neutral page
    assert queued_verifications() == before  # and nothing queued
    db.session.refresh(second)
    assert second.verified_at is None and second.work_emails_queued == 0
    assert verified_counts(client)[0] == 1


def test_two_links_to_one_mailbox_verify_only_the_first_pressed(client, keys, make_signature, mailbox):
    first = make_signature(email="a@example.com", sector="health", status=SignatureStatus.CONFIRMED)
    second = make_signature(email="b@example.com", sector="health", status=SignatureStatus.CONFIRMED)
    mailbox.messages()
    request_work(client, offer_path(keys, first), WORK_ADDRESS)
    request_work(client, offer_path(keys, second), WORK_ADDRESS)  # both asked before either verified
    links = [mailbox.link(m, "work-email/verify") for m in mailbox.messages()[-2:]]
    assert press(client, links[0]).status_code == 200
    refused = press(client, links[1])
    assert refused.status_code == 409 and "already verified a signature" in refused.text
    assert verified_counts(client)[0] == 1


def test_one_mailbox_verifies_one_signature_under_concurrency(app, backend, keys, make_signature):
    if backend != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL, the production database")
    from app.services.work_verification import link_token

    signatures = [
        make_signature(email=f"s{n}@example.com", sector="health", status=SignatureStatus.CONFIRMED) for n in range(6)
    ]
    mailbox_key = keys.cipher.work_mailbox_index(WORK_ADDRESS.lower())
    links = [link_token(keys, s, mailbox_key, int(utcnow().timestamp())) for s in signatures]
    barrier = threading.Barrier(len(links))
    outcomes = []

    def verify(token):
        with app.app_context():
            barrier.wait()
            try:
                verify_work_email(db.session, keys, token)
                outcomes.append("verified")
            except MailboxAlreadyUsed:
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=verify, args=(t,)) for t in links]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["refused"] * 5 + ["verified"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(Signature.verified_at.is_not(None))) == 1
    assert db.session.scalar(select(func.sum(CountCell.verified))) == 1


# Consents, withdrawal, the schema's guarantees ---------------------------------------------------


def verified_signature(client, keys, make_signature, mailbox, email="ada@example.com", union=None):
    signature = make_signature(email=email, sector="health", union=union, status=SignatureStatus.CONFIRMED)
    request_work(client, offer_path(keys, signature), WORK_ADDRESS)
    assert press(client, mailbox.link(mailbox.messages()[-1], "work-email/verify")).status_code == 200
    db.session.refresh(signature)
    return signature


def test_verification_survives_a_change_of_consents(client, keys, make_signature, mailbox):
    signature = verified_signature(client, keys, make_signature, mailbox, union="unison")
    manage = tokens.make_token(keys.token_key, tokens.MANAGE, signature.id, signature.token_nonce)
    update_consents(db.session, keys, manage, updates=True, share_union=True)
    update_consents(db.session, keys, manage, updates=False, share_union=False)
    db.session.refresh(signature)
    assert signature.verified_at is not None and signature.work_mailbox_key is not None
    assert verified_counts(client)[1]["health"] == 1


def test_withdrawal_erases_the_verification_and_frees_the_mailbox(client, keys, make_signature, mailbox):
    signature = verified_signature(client, keys, make_signature, mailbox)
    manage = tokens.make_token(keys.token_key, tokens.MANAGE, signature.id, signature.token_nonce)
    withdraw_signature(db.session, keys, manage)
    assert verified_counts(client) == NONE_VERIFIED
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    assert db.session.scalar(select(func.sum(CountCell.verified))) == 0
    # The mailbox may verify the person's new signature.
    again = verified_signature(client, keys, make_signature, mailbox, email="ada2@example.com")
    assert again.verified_at is not None


def test_a_withdrawn_signatures_link_no_longer_works(client, keys, make_signature, mailbox):
    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    request_work(client, offer_path(keys, signature), WORK_ADDRESS)
    path = mailbox.link(mailbox.messages()[-1], "work-email/verify")
    manage = tokens.make_token(keys.token_key, tokens.MANAGE, signature.id, signature.token_nonce)
    withdraw_signature(db.session, keys, manage)
    assert client.get(path).status_code == 404


def test_a_message_done_with_may_not_keep_its_address(app, client, keys, make_signature):
    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    request_work(client, offer_path(keys, signature), WORK_ADDRESS)
    message = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.kind == WORK_VERIFICATION_EMAIL)
    ).scalar_one()
    assert message.recipient_encrypted is not None
    message.sent_at = utcnow()
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_message_no_longer_needed_is_skipped_and_its_address_erased(client, keys, make_signature, mailbox):
    from app.services.work_verification import link_token

    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    mailbox.messages()
    request_work(client, offer_path(keys, signature), "one@nhs.net")
    request_work(client, offer_path(keys, signature), "two@nhs.net")
    # Verified by a link to the first before the worker sent either (say, the first was sent
    # from another copy of the queue): neither is needed any more.
    token = link_token(keys, signature, keys.cipher.work_mailbox_index("one@nhs.net"), int(utcnow().timestamp()))
    verify_work_email(db.session, keys, token)
    report = mailbox.deliver()
    assert report.skipped == 2 and report.sent == 0
    remaining = db.session.execute(select(OutboxMessage.recipient_encrypted)).scalars().all()
    assert remaining and remaining == [None] * len(remaining)


def test_anonymisation_keeps_the_fact_and_drops_the_mailbox_key(app, client, keys, make_signature, mailbox):
    from datetime import date

    from app.services.audit import CLI
    from app.services.retention import run_retention

    signature = verified_signature(client, keys, make_signature, mailbox)
    run_retention(db.session, CLI, unconfirmed_days=30, campaign_end=date(2020, 1, 1))
    db.session.refresh(signature)
    assert signature.anonymised_at is not None
    assert signature.verified_at is not None and signature.work_mailbox_key is None


# Nothing kept that identifies the workplace -----------------------------------------------------


def every_raw_value() -> list:
    """Every column of every row of every table, read with plain SQL."""
    values = []
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(text(f"SELECT * FROM {table.name}")):
                values.extend(row)
    return values


def traces(values, needles) -> list:
    found = []
    for value in values:
        if value is None:
            continue
        raw = bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else str(value).encode()
        found += [needle for needle in needles if needle.lower().encode() in raw.lower()]
    return found


def test_no_table_queued_message_or_log_line_keeps_the_work_address_or_its_domain(
    app, client, keys, make_signature, smtp, caplog
):
    caplog.set_level(logging.DEBUG)
    needles = [WORK_ADDRESS, WORK_DOMAIN, "whittington-example", "mary.seacole", "evil-trust.example"]
    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    deliver(app)
    assert request_work(client, offer_path(keys, signature), "mary@evil-trust.example").status_code == 400
    assert request_work(client, offer_path(keys, signature), WORK_ADDRESS).status_code == 200
    queued = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == WORK_VERIFICATION_EMAIL)).scalar_one()
    assert keys.cipher.decrypt(queued.recipient_encrypted) == WORK_ADDRESS
    assert traces(every_raw_value(), needles) == []  # queued: only encrypted

    assert deliver(app).sent == 1
    db.session.expire_all()
    assert db.session.execute(select(OutboxMessage.recipient_encrypted)).scalars().all() == [None, None]
    (work_mail,) = received(smtp)[1:]
    assert press(client, link_in(work_mail, "work-email/verify")).status_code == 200
    request_work(client, offer_path(keys, signature), WORK_ADDRESS)  # a second attempt, after
    assert traces(every_raw_value(), needles) == []
    assert db.session.scalar(select(func.count()).where(Signature.verified_at.is_not(None))) == 1
    # Every log line but the receiving SMTP server's own (aiosmtpd's "mail.log": it is the mail provider).
    logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert logged  # the flow logs: so the check below reads real lines
    assert [needle for needle in needles if needle.lower() in logged.lower()] == []


# Published -------------------------------------------------------------------------------------


def test_pages_api_and_dashboard_show_verified_workers(client, keys, make_signature, mailbox, make_account, sign_in):
    assert "verified" not in client.get("/sign/health").text  # nothing to say yet
    verified_signature(client, keys, make_signature, mailbox, union="unison")
    make_signature(email="other@example.com", sector="health", status=SignatureStatus.CONFIRMED)
    for path in ("/", "/sign/health"):
        assert "including 1 verified health and care workers" in client.get(path).text, path
    narrowed = client.get("/api/v1/counts?sector=health&org=unison").get_json()
    assert narrowed["total"] == 1 and narrowed["verified_total"] == 1
    assert client.get("/api/v1/counts?org=neu").get_json()["verified_total"] == 0
    health = client.get("/api/v1/counts?sector=health").get_json()
    assert health["sectors"][0]["count"] == 2 and health["sectors"][0]["verified"] == 1

    sign_in(make_account())
    dashboard = client.get("/organiser/").text
    assert re.search(r"Health and care</th><td>2</td><td>1</td>", dashboard)


def test_verifying_changes_the_counts_etag(client, keys, make_signature, mailbox):
    signature = make_signature(sector="health", status=SignatureStatus.CONFIRMED)
    request_work(client, offer_path(keys, signature), WORK_ADDRESS)
    before = client.get("/api/v1/counts").headers["ETag"]
    press(client, mailbox.link(mailbox.messages()[-1], "work-email/verify"))
    after = client.get("/api/v1/counts")
    assert after.headers["ETag"] != before and after.get_json()["verified_total"] == 1


def test_exports_say_whether_and_when_a_signer_verified(app, client, keys, make_signature, mailbox):
    from app.services.export import ExportFilters, ExportScope, export_query, signatory_rows

    verified = verified_signature(client, keys, make_signature, mailbox)
    make_signature(email="plain@example.com", sector="health", status=SignatureStatus.CONFIRMED)
    rows = list(signatory_rows(db.session, keys, export_query(db.session, ExportFilters(), ExportScope(None))))
    assert [(r.email, r.verified_at) for r in rows] == [
        ("ada@example.com", verified.verified_at),
        ("plain@example.com", None),
    ]
