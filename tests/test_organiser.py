"""The organiser area: accounts, sign-in, roles and scoping, dashboard, exports, audit, moderation."""

import csv
import io
import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select, text, update

from app.extensions import db
from app.models import AuditEvent, Organiser, OrganiserSession, OutboxMessage, Signature, SignatureStatus, utcnow
from app.services import organisers
from tests.forms import csrf_token
from tests.organisers import PASSWORD, next_code


@pytest.fixture
def signers(make_signature):
    """NEU consenting, NEU not consenting, UNISON consenting, no union; all confirmed; plus one pending."""
    confirmed = SignatureStatus.CONFIRMED
    make_signature(email="neu.yes@example.com", name="Nia Yes", union="neu", share_union=True, status=confirmed)
    make_signature(email="neu.no@example.com", name="Ned No", union="neu", status=confirmed)
    make_signature(
        email="unison@example.com", name="Una Son", sector="health", union="unison", share_union=True, status=confirmed
    )
    make_signature(email="none@example.com", name="Nora None", sector="public", source="leaflet", status=confirmed)
    make_signature(email="pending@example.com", name="Pat Pending", union="neu", share_union=True)


def actions():
    return db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()


# Accounts and signing in ------------------------------------------------------------------


def test_cli_creates_an_account_with_a_one_time_password_link(client, runner):
    result = runner.invoke(args=["organisers", "create", "Staff@Example.org", "--role", "admin"])
    assert result.exit_code == 0, result.output
    path = re.search(r"http://localhost(/organiser/password/\S+)", result.output).group(1)
    page = client.get(path)
    assert page.status_code == 200 and "staff@example.org" in page.text
    short = client.post(path, data={"password": "short", "csrf_token": csrf_token(page.text)})
    assert short.status_code == 400 and "at least 12 characters" in short.text
    done = client.post(path, data={"password": PASSWORD, "csrf_token": csrf_token(page.text)})
    assert done.status_code == 303
    assert client.get(path).status_code == 404  # used once
    assert "account.create" in actions() and "account.password_set" in actions()


def test_cli_refuses_an_organiser_without_a_union(runner):
    result = runner.invoke(args=["organisers", "create", "x@example.org", "--role", "organiser"])
    assert result.exit_code != 0 and "--org" in result.output


def test_unknown_account_and_wrong_password_get_the_same_message(client, make_account):
    make_account()
    replies = []
    for email, password in [("nobody@example.org", PASSWORD), ("admin@example.org", "wrong password!")]:
        page = client.get("/organiser/login")
        response = client.post(
            "/organiser/login", data={"email": email, "password": password, "csrf_token": csrf_token(page.text)}
        )
        replies.append(
            (response.status_code, re.search(r"<p>(We could not sign you in.*?)</p>", response.text).group(1))
        )
    assert replies[0] == replies[1]
    assert actions().count("login.failed") == 2


def test_failures_from_one_address_pause_only_that_address(app, client, make_account, sign_in):
    account = make_account()
    attacker = {"environ_base": {"REMOTE_ADDR": "198.51.100.7"}}
    for _ in range(10):
        assert sign_in(account, "wrong password!", **attacker).status_code == 400
    assert sign_in(account, **attacker).status_code == 400  # right password, but paused from there
    owner = {"environ_base": {"REMOTE_ADDR": "203.0.113.9"}}
    assert sign_in(account, **owner).status_code == 303  # the owner, elsewhere, is not locked out
    assert "login.failed" in actions()


def test_sign_in_is_throttled_per_address(app, client, make_account, sign_in):
    from app.extensions import limiter

    account = make_account(totp=False)
    app.config["RATELIMIT_LOGIN_IP"] = "3 per minute"
    limiter.reset()
    for i in range(3):
        sign_in(Organiser(email=f"guess{i}@example.org"), "nope")
    assert sign_in(account).status_code == 400  # even the right password waits
    limiter.reset()


def test_two_factor_sign_in(client, keys, make_account):
    account = make_account()
    page = client.get("/organiser/login")
    response = client.post(
        "/organiser/login", data={"email": account.email, "password": PASSWORD, "csrf_token": csrf_token(page.text)}
    )
    assert "/organiser/login/code" in response.headers["Location"]
    assert client.get("/organiser/").status_code == 302  # not signed in yet
    assert db.session.scalar(select(db.func.count()).select_from(OrganiserSession)) == 0  # no session yet
    page = client.get("/organiser/login/code")
    bad = client.post("/organiser/login/code", data={"code": "000000", "csrf_token": csrf_token(page.text)})
    assert bad.status_code == 400
    good = client.post(
        "/organiser/login/code", data={"code": next_code(keys, account), "csrf_token": csrf_token(page.text)}
    )
    assert good.status_code == 303
    assert client.get("/organiser/").status_code == 200


def test_switching_on_two_factor(client, keys, make_account, sign_in):
    account = make_account(totp=False)
    assert "/organiser/account/two-factor" in sign_in(account).headers["Location"]
    page = client.get("/organiser/account/two-factor")
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text).group(1)
    response = client.post(
        "/organiser/account/two-factor", data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 303
    db.session.refresh(account)
    assert account.totp_enabled and "account.totp_enabled" in actions()


def test_pages_are_no_store_and_posts_need_csrf(client, make_account, sign_in):
    sign_in(make_account())
    assert client.get("/organiser/").headers["Cache-Control"] == "no-store"
    assert client.post("/organiser/logout").status_code == 400
    assert client.post("/organiser/login", data={"email": "a@example.org", "password": "x"}).status_code == 400


def test_idle_sessions_expire(app, client, make_account, sign_in):
    sign_in(make_account())
    idle = timedelta(minutes=app.config["ORGANISER_IDLE_MINUTES"], seconds=1)
    db.session.execute(update(OrganiserSession).values(last_seen_at=utcnow() - idle))
    db.session.commit()
    response = client.get("/organiser/")
    assert response.status_code == 302 and "/organiser/login" in response.headers["Location"]
    assert client.get("/organiser/").status_code == 302


def test_new_password_ends_other_sessions(client, keys, make_account, sign_in):
    account = make_account()
    sign_in(account)
    assert client.get("/organiser/").status_code == 200
    organisers.set_password(
        db.session,
        keys,
        organisers.password_link_token(keys, account),
        PASSWORD + "!",
        max_age_seconds=60,
        min_length=12,
    )
    assert client.get("/organiser/").status_code == 302


def test_password_reset_by_email(client, make_account, mailbox):
    account = make_account()
    for email in [account.email, "nobody@example.org"]:
        page = client.get("/organiser/password/reset")
        response = client.post("/organiser/password/reset", data={"email": email, "csrf_token": csrf_token(page.text)})
        assert "If there is an organiser account" in response.text
    (message,) = mailbox.messages()
    assert message["To"] == account.email
    link = re.search(r"http://localhost(/organiser/password/\S+)", message.get_body(("plain",)).get_content()).group(1)
    assert client.get(link).status_code == 200


def test_wrong_role_gets_403(client, make_account, sign_in):
    sign_in(make_account("neu@example.org", "organiser", "neu"))
    for path in [
        "/organiser/audit",
        "/organiser/moderation",
        "/organiser/moderation/held",
        "/organiser/moderation/domains",
        "/organiser/settings",
    ]:
        assert client.get(path).status_code == 403, path


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for path in ["/organiser/", "/organiser/exports", "/organiser/exports/signatories.csv", "/organiser/audit"]:
        response = client.get(path)
        assert response.status_code == 302 and "/organiser/login" in response.headers["Location"]


# Scoping, dashboard and exports --------------------------------------------------------------


def test_dashboard_totals_chart_and_table(client, make_account, sign_in, signers):
    sign_in(make_account())
    page = client.get("/organiser/").text
    assert "<svg" in page and "<table>" in page
    assert re.search(r"<strong>4</strong> confirmed", page)
    assert re.search(r"<strong>80%</strong> of sign-ups confirmed", page)
    assert "UNISON" in page and "leaflet" in page


def test_union_organiser_sees_only_their_union(client, make_account, sign_in, signers):
    sign_in(make_account("neu@example.org", "organiser", "neu"))
    page = client.get("/organiser/").text
    assert re.search(r"<strong>2</strong> confirmed", page)
    assert "UNISON" not in page and "leaflet" not in page


def _csv(response):
    assert response.status_code == 200, response.text[:300]
    body = response.data.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?org=unison",
        "?org=neu",
        "?sector=health",
        "?consent_updates=no",
        "?org=unison&sector=health",
        "?source=leaflet",
    ],
)
def test_union_organiser_exports_only_consenting_members_whatever_the_filters(
    client, make_account, sign_in, signers, query
):
    sign_in(make_account("neu@example.org", "organiser", "neu"))
    rows = _csv(client.get(f"/organiser/exports/signatories.csv{query}"))
    assert {r["email"] for r in rows} <= {"neu.yes@example.com"}
    osdi = client.get(f"/organiser/exports/signatories.json{query}").get_json()
    emails = {p["email_addresses"][0]["address"] for p in osdi["_embedded"]["osdi:people"]}
    assert emails <= {"neu.yes@example.com"}


def test_admin_exports_everyone_confirmed_and_it_is_audited(client, make_account, sign_in, signers):
    sign_in(make_account())
    rows = _csv(client.get("/organiser/exports/signatories.csv"))
    assert {r["email"] for r in rows} == {
        "neu.yes@example.com",
        "neu.no@example.com",
        "unison@example.com",
        "none@example.com",
    }
    assert _csv(client.get("/organiser/exports/signatories.csv?org=unison"))[0]["email"] == "unison@example.com"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "export")).scalars().all()
    assert len(event) == 2 and '"rows": 4' in event[0].details and '"org": "unison"' in event[1].details


def test_exports_need_two_factor(client, make_account, sign_in, signers):
    sign_in(make_account(totp=False))
    response = client.get("/organiser/exports/signatories.csv")
    assert response.status_code == 302 and "two-factor" in response.headers["Location"]


def test_bad_export_filters_get_400(client, make_account, sign_in, signers):
    sign_in(make_account())
    assert client.get("/organiser/exports/signatories.csv?sector=nope").status_code == 400
    assert client.get("/organiser/exports/signatories.csv?confirmed_from=yesterday").status_code == 400


# Audit log ----------------------------------------------------------------------------------


def test_audit_log_browse_filter_and_cli(client, runner, make_account, sign_in):
    admin = make_account()
    sign_in(admin)
    page = client.get("/organiser/audit?action=login").text
    assert "admin@example.org" in page and "account.create" not in page
    output = runner.invoke(args=["audit", "--action", "account.create"]).output
    assert "account.create" in output and "login" not in output.replace("account.create", "")


def test_audit_log_is_append_only(app):
    from app.services import audit

    audit.record(db.session, audit.CLI, "test.event")
    db.session.commit()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("UPDATE audit_event SET action = 'changed'"))
        db.session.commit()
    db.session.rollback()


# Moderation ---------------------------------------------------------------------------------


def test_find_by_exact_email_variant_domain_and_source(client, make_account, sign_in, signers):
    sign_in(make_account())
    found = client.get("/organiser/moderation?email=NEU.YES@EXAMPLE.COM").text  # names shown masked
    assert "Nia Y." in found and "Ned N." not in found
    by_domain = client.get("/organiser/moderation?domain=example.com").text
    assert "Nia Y." in by_domain and "Una S." in by_domain
    assert "Nora N." in client.get("/organiser/moderation?source=leaflet").text
    assert "moderation.search" in actions()
    assert client.get("/organiser/moderation?email=not-an-email").status_code == 400


def test_invalidate_uncounts_but_keeps_the_record(client, make_account, sign_in, signers):
    sign_in(make_account())
    target = db.session.execute(select(Signature.id).where(Signature.source == "leaflet")).scalar_one()
    page = client.get("/organiser/moderation?source=leaflet")
    response = client.post(
        f"/organiser/moderation/{target}/invalidate", data={"reason": "spam", "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 303
    assert client.get("/api/v1/counts").json["total"] == 3
    assert db.session.execute(
        select(Signature.status, Signature.invalid_reason).where(Signature.id == target)
    ).one() == (SignatureStatus.INVALID, "spam")


def test_delete_erases(client, make_account, sign_in, signers):
    sign_in(make_account())
    target = db.session.execute(select(Signature.id).where(Signature.source == "leaflet")).scalar_one()
    page = client.get("/organiser/moderation?source=leaflet")
    client.post(f"/organiser/moderation/{target}/delete", data={"reason": "asked", "csrf_token": csrf_token(page.text)})
    assert db.session.get(Signature, target) is None
    assert client.get("/api/v1/counts").json["total"] == 3


def test_bulk_invalidate_previews_then_acts(client, make_account, sign_in, signers):
    sign_in(make_account())
    preview = client.get("/organiser/moderation/bulk?domain=example.com&status=confirmed")
    assert "<strong>4</strong> sign-ups would be invalidated" in preview.text
    stale = client.post(
        "/organiser/moderation/bulk?domain=example.com&status=confirmed",
        data={"reason": "test", "expected": 3, "csrf_token": csrf_token(preview.text)},
    )
    assert stale.status_code == 303 and client.get("/api/v1/counts").json["total"] == 4
    client.post(
        "/organiser/moderation/bulk?domain=example.com&status=confirmed",
        data={"reason": "test", "expected": 4, "csrf_token": csrf_token(preview.text)},
    )
    assert client.get("/api/v1/counts").json["total"] == 0


def test_blocked_domain_then_held_review_and_release(client, make_account, sign_in, sign_via_form, mailbox):
    sign_in(make_account())
    page = client.get("/organiser/moderation/domains")
    client.post("/organiser/moderation/domains", data={"domain": "spam.example", "csrf_token": csrf_token(page.text)})
    sign_via_form(email="maybe.real@spam.example")
    assert mailbox.messages() == []
    held = client.get("/organiser/moderation/held")
    assert "m*****@spam.example" in held.text and "blocked_domain" in held.text  # masked until revealed
    target = db.session.execute(select(Signature.id)).scalar_one()
    client.post(f"/organiser/moderation/held/{target}/release", data={"csrf_token": csrf_token(held.text)})
    (message,) = mailbox.messages()
    assert message["To"] == "maybe.real@spam.example"
    assert "moderation.block_domain" in actions() and "moderation.release" in actions()


def test_admin_can_pause_signing(client, make_account, sign_in):
    sign_in(make_account())
    page = client.get("/organiser/settings")
    client.post("/organiser/settings", data={"paused": "y", "csrf_token": csrf_token(page.text)})
    assert "Signing is paused" in client.get("/sign/education").text
    assert "settings.signing_paused" in actions()


# Retention and the signer's own data ----------------------------------------------------------


def test_retention_deletes_stale_unconfirmed_and_anonymises_after_the_campaign(app, runner, signers):
    db.session.execute(
        update(Signature)
        .where(Signature.status == SignatureStatus.PENDING)
        .values(created_at=utcnow() - timedelta(days=app.config["UNCONFIRMED_RETENTION_DAYS"] + 1))
    )
    db.session.commit()
    dry = runner.invoke(args=["retention", "run", "--dry-run"]).output
    assert "Would delete 1 unconfirmed" in dry
    assert db.session.scalar(select(db.func.count()).select_from(Signature)) == 5
    runner.invoke(args=["retention", "run"])
    assert db.session.scalar(select(db.func.count()).select_from(Signature)) == 4
    app.config["CAMPAIGN_END_DATE"] = (utcnow().date() - timedelta(days=1)).isoformat()
    assert "Anonymised 4 signatures" in runner.invoke(args=["retention", "run"]).output
    assert (
        db.session.execute(select(Signature.email_encrypted).where(Signature.email_encrypted.is_not(None))).first()
        is None
    )
    assert app.test_client().get("/api/v1/counts").json["total"] == 4


def test_signer_downloads_their_own_data(client, sign_via_form, mailbox, confirm_via_page):
    sign_via_form(name="Ada Lovelace", email="ada@example.com", postcode="SW1A 1AA", organisation="neu")
    confirm_via_page(mailbox.link(mailbox.messages()[0], "confirm"), consent_updates="y")
    manage = mailbox.link(mailbox.messages()[0], "manage")
    response = client.get(f"{manage}/data.json")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert data["name"] == "Ada Lovelace" and data["email"] == "ada@example.com"
    assert data["union"] == "neu" and data["postcode_area"] == "SW1A" and data["consents"]["campaign_updates"]
    assert client.get("/manage/1.1." + "A" * 43 + "/data.json").status_code == 404


def test_organiser_mail_and_signer_mail_share_the_queue(make_account, client, mailbox, make_signup):
    account = make_account()
    organisers.request_password_reset(db.session, account.email, max_per_hour=3)
    make_signup()
    assert {m["To"] for m in mailbox.messages()} == {account.email, "ada@example.com"}
    assert (
        db.session.scalar(select(db.func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_not(None)))
        == 2
    )
