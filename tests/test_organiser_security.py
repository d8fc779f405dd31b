"""The organiser area's defences: compulsory two-factor, server-side sessions, single-use codes,
sign-in that says nothing by its timing, failures that cannot lock the owner out, off-boarding,
and a cookie that holds nothing derived from the client's address (issue 9)."""

import hashlib
import logging
import re
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import event, select, update

from app.extensions import db
from app.models import AuditEvent, Organiser, OrganiserSession, OutboxMessage, SignatureStatus, utcnow
from app.organiser.access import OPEN_ENDPOINTS, SESSION_TOKEN
from app.services import audit, organiser_sessions, organisers, two_factor
from tests.forms import csrf_token
from tests.organisers import PASSWORD, next_code, sign_in_as


def actions(action: str) -> list[AuditEvent]:
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def session_cookie(app, client) -> dict:
    """What the browser holds: the Flask session cookie, decoded (it is signed, not encrypted)."""
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def at(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def sign_out(client) -> None:
    page = client.get("/organiser/account/two-factor")
    assert client.post("/organiser/logout", data={"csrf_token": csrf_token(page.text)}).status_code == 303


@pytest.fixture
def statements(app):
    """The shape of every SQL statement run while the list is being recorded: (verb, table)."""
    seen: list[tuple[str, str]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        match = re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE)\b.*?\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", statement, re.S)
        seen.append((match.group(1), match.group(2)) if match else (statement.split()[0].upper(), ""))

    def commit(conn):
        seen.append(("COMMIT", ""))

    event.listen(db.engine, "before_cursor_execute", record)
    event.listen(db.engine, "commit", commit)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)
    event.remove(db.engine, "commit", commit)


# 1. Two-factor for every account -----------------------------------------------------------------


def _example_url(rule) -> str:
    """The rule's path with a plausible value in each variable: <int:id> 1, <any(csv, json):x> csv."""

    def example(variable: re.Match) -> str:
        converter, arguments = variable.group(1), variable.group(2)
        return "1" if converter == "int" else arguments.split(",")[0].strip() if converter == "any" else "x"

    return re.sub(r"<(?:(\w+)(?:\(([^)]*)\))?:)?\w+>", example, rule.rule)


def test_no_organiser_page_but_set_up_and_sign_out_works_before_two_factor(app, client, make_account, sign_in):
    account = make_account(totp=False)
    assert sign_in(account).headers["Location"].endswith("/organiser/account/two-factor")
    token = csrf_token(client.get("/organiser/account/two-factor").text)
    gated = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("organiser.")]
    gated = [r for r in gated if r.endpoint not in OPEN_ENDPOINTS]
    assert {"organiser.dashboard", "organiser.export_download", "organiser.accounts"} <= {r.endpoint for r in gated}
    for rule in gated:
        url = _example_url(rule)
        if "GET" in rule.methods:
            response = client.get(url)
        else:
            response = client.post(url, data={"csrf_token": token, "reason": "x", "expected": 1, "domain": "x.org"})
        assert response.status_code in (302, 303), (rule.endpoint, response.status_code)
        assert response.headers["Location"].endswith("/organiser/account/two-factor"), rule.endpoint
    assert "account.disable" not in [e.action for e in db.session.execute(select(AuditEvent)).scalars()]
    sign_out(client)


def test_signing_in_with_two_factor_on_makes_no_session_before_the_code(app, client, make_account):
    account = make_account()
    page = client.get("/organiser/login")
    client.post(
        "/organiser/login", data={"email": account.email, "password": PASSWORD, "csrf_token": csrf_token(page.text)}
    )
    assert db.session.scalar(select(db.func.count()).select_from(OrganiserSession)) == 0
    assert SESSION_TOKEN not in session_cookie(app, client)
    assert client.get("/organiser/account/two-factor").status_code == 302  # not even set-up


# 4. Sessions live on the server ------------------------------------------------------------------


def test_a_copied_cookie_is_worthless_after_signing_out(client, make_account, sign_in, make_signature):
    make_signature(status=SignatureStatus.CONFIRMED)
    sign_in(make_account())
    copied = client.get_cookie("session").value
    assert client.get("/organiser/exports/signatories.csv").status_code == 200
    sign_out(client)
    client.set_cookie("session", copied)  # the attacker's copy, replayed
    for path in ["/organiser/", "/organiser/exports/signatories.csv"]:
        response = client.get(path)
        assert response.status_code == 302 and "/organiser/login" in response.headers["Location"], path
    assert db.session.execute(select(OrganiserSession.ended_at)).scalar_one() is not None


def test_the_cookie_holds_a_random_token_and_the_database_only_its_hash(app, client, make_account, sign_in):
    sign_in(make_account())
    token = session_cookie(app, client)[SESSION_TOKEN]
    row = db.session.execute(select(OrganiserSession)).scalar_one()
    assert len(token) >= 40 and bytes(row.token_hash) == hashlib.sha256(token.encode()).digest()
    assert token.encode() not in bytes(row.token_hash)


def test_sessions_end_after_their_absolute_lifetime_however_busy(app, client, make_account, sign_in):
    app.config["ORGANISER_SESSION_MAX_HOURS"] = 12
    sign_in(make_account())
    lifetime = timedelta(hours=app.config["ORGANISER_SESSION_MAX_HOURS"], seconds=1)
    db.session.execute(update(OrganiserSession).values(created_at=utcnow() - lifetime, last_seen_at=utcnow()))
    db.session.commit()
    response = client.get("/organiser/")
    assert response.status_code == 302 and "/organiser/login" in response.headers["Location"]
    assert db.session.execute(select(OrganiserSession.ended_at)).scalar_one() is not None


def test_activity_is_written_at_most_once_a_minute(client, make_account, sign_in):
    sign_in(make_account())
    signed_in_at = db.session.execute(select(OrganiserSession.last_seen_at)).scalar_one()
    client.get("/organiser/")
    client.get("/organiser/exports")
    assert db.session.execute(select(OrganiserSession.last_seen_at)).scalar_one() == signed_in_at
    db.session.execute(update(OrganiserSession).values(last_seen_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()
    assert client.get("/organiser/").status_code == 200
    assert utcnow() - db.session.execute(select(OrganiserSession.last_seen_at)).scalar_one() < timedelta(minutes=1)


def test_disabling_an_account_or_a_new_password_ends_its_sessions(app, client, keys, make_account, sign_in):
    account = make_account()
    sign_in(account)
    organisers.disable_organiser(db.session, audit.CLI, account.id)
    assert client.get("/organiser/").status_code == 302
    organisers.enable_organiser(db.session, audit.CLI, account.id)
    sign_in(account)
    assert client.get("/organiser/").status_code == 200
    link = organisers.password_link_token(keys, account)
    organisers.set_password(db.session, keys, link, PASSWORD + "!", max_age_seconds=60, min_length=12)
    assert client.get("/organiser/").status_code == 302
    assert db.session.scalar(select(db.func.count()).where(OrganiserSession.ended_at.is_(None))) == 0


# 5. Each code works once -------------------------------------------------------------------------


def _password_then_code(client, account, code: str):
    page = client.get("/organiser/login")
    client.post(
        "/organiser/login", data={"email": account.email, "password": PASSWORD, "csrf_token": csrf_token(page.text)}
    )
    page = client.get("/organiser/login/code")
    return client.post("/organiser/login/code", data={"code": code, "csrf_token": csrf_token(page.text)})


def test_a_sign_in_code_works_only_once(client, keys, make_account):
    account = make_account()
    code = next_code(keys, account)
    assert _password_then_code(client, account, code).status_code == 303
    sign_out(client)
    replayed = _password_then_code(client, account, code)  # e.g. seen over a shoulder
    assert replayed.status_code == 400 and "Each code works once" in replayed.text
    assert client.get("/organiser/").status_code == 302


def test_the_set_up_code_cannot_be_used_again_to_sign_in(client, make_account, sign_in):
    account = make_account(totp=False)
    sign_in(account)
    page = client.get("/organiser/account/two-factor")
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page.text).group(1)
    code = pyotp.TOTP(secret).now()
    client.post("/organiser/account/two-factor", data={"code": code, "csrf_token": csrf_token(page.text)})
    sign_out(client)
    assert _password_then_code(client, account, code).status_code == 400


def test_codes_allow_one_step_of_clock_drift_either_way_and_never_an_older_step(keys, make_account):
    account = make_account(totp=False)
    secret = two_factor.begin_totp_setup(db.session, keys, account)
    totp = pyotp.TOTP(secret)
    now = time.time() + 3600  # an hour after make_account, so no step used so far interferes
    step = int(now // 30)
    with pytest.raises(organisers.AccountError):
        two_factor.confirm_totp(db.session, keys, account, totp.generate_otp(step - 2), now=now)
    two_factor.confirm_totp(db.session, keys, account, totp.generate_otp(step - 1), now=now)
    assert account.totp_last_step == step - 1
    for too_far_or_used in [step + 2, step - 1]:
        with pytest.raises(two_factor.CodeRejected):
            two_factor.sign_in_with_code(db.session, keys, account, totp.generate_otp(too_far_or_used), now=now)
    two_factor.sign_in_with_code(db.session, keys, account, totp.generate_otp(step + 1), now=now)
    with pytest.raises(two_factor.CodeRejected):  # older than the last one accepted, though within drift
        two_factor.sign_in_with_code(db.session, keys, account, totp.generate_otp(step), now=now)


# 6. Timing says nothing about the account -------------------------------------------------------


def test_every_failed_sign_in_checks_one_hash_and_does_the_same_database_work(
    client, make_account, statements, monkeypatch
):
    make_account("wrong@example.org")
    make_account("disabled@example.org")
    organisers.create_organiser(db.session, "nopassword@example.org", "admin")
    disabled = db.session.execute(select(Organiser).where(Organiser.email == "disabled@example.org")).scalar_one()
    organisers.disable_organiser(db.session, audit.CLI, disabled.id)
    checks = []
    real_check = organiser_sessions.check_password_hash
    monkeypatch.setattr(organiser_sessions, "check_password_hash", lambda *a: checks.append(1) or real_check(*a))

    work = {}
    for email in ["nobody@example.org", "wrong@example.org", "disabled@example.org", "nopassword@example.org"]:
        page = client.get("/organiser/login")
        checks.clear()
        statements.clear()
        response = client.post(
            "/organiser/login",
            data={"email": email, "password": "wrong password!", "csrf_token": csrf_token(page.text)},
        )
        assert response.status_code == 400
        work[email] = (len(checks), list(statements))
    assert {count for count, _ in work.values()} == {1}, work
    shapes = {email: shape for email, (_, shape) in work.items()}
    assert len({tuple(shape) for shape in shapes.values()}) == 1, shapes


def test_password_reset_does_the_same_database_work_for_known_and_unknown_addresses(client, make_account, statements):
    account = make_account()
    shapes = {}
    for email in [account.email, "nobody@example.org"]:
        page = client.get("/organiser/password/reset")
        statements.clear()
        client.post("/organiser/password/reset", data={"email": email, "csrf_token": csrf_token(page.text)})
        shapes[email] = list(statements)
    assert shapes[account.email] == shapes["nobody@example.org"]
    assert shapes[account.email].count(("COMMIT", "")) == 1
    assert db.session.scalar(select(db.func.count()).select_from(OutboxMessage)) == 1  # for the account only


def test_reset_emails_are_capped_per_account_whoever_asks(app, client, make_account):
    account = make_account()
    app.config["PASSWORD_RESET_MAX_PER_HOUR"] = 3
    for i in range(5):
        page = client.get("/organiser/password/reset", **at(f"198.51.100.{i + 1}"))
        response = client.post(
            "/organiser/password/reset",
            data={"email": account.email, "csrf_token": csrf_token(page.text)},
            **at(f"198.51.100.{i + 1}"),
        )
        assert "If there is an organiser account" in response.text
    assert db.session.scalar(select(db.func.count()).select_from(OutboxMessage)) == 3
    assert len(actions("account.password_reset_refused")) == 2


# 7. Failures cannot lock the owner out -----------------------------------------------------------


def test_failures_from_many_addresses_reach_an_audited_ceiling_once(app, client, make_account, sign_in, caplog):
    account = make_account()
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "4 per hour"
    caplog.set_level(logging.WARNING)
    messages = set()
    for i in range(8):
        response = sign_in(account, "wrong password!", **at(f"198.51.100.{i + 1}"))
        assert response.status_code == 400
        messages.add(re.search(r"<p>(We could not sign you in.*?)</p>", response.text).group(1))
    assert sign_in(account, **at("203.0.113.9")).status_code == 400  # the ceiling holds for everyone
    assert len(messages) == 1  # throttled or wrong, the page says the same
    (event,) = actions("login.ceiling_reached")
    assert f'"account_id": {account.id}' in event.details
    warnings = [r.getMessage() for r in caplog.records if "ceiling" in r.getMessage()]
    assert len(warnings) == 1 and str(account.id) in warnings[0]
    assert account.email not in warnings[0] and "198.51.100" not in warnings[0]


# 12. Off-boarding --------------------------------------------------------------------------------


def test_admin_disables_and_enables_an_account_from_the_accounts_page(app, client, keys, make_account, sign_in):
    rep = make_account("rep@neu.example", "organiser", "neu")
    rep_browser = app.test_client()
    sign_in_as(rep_browser, keys, rep)
    assert rep_browser.get("/organiser/").status_code == 200
    assert rep_browser.get("/organiser/accounts").status_code == 403  # admins only

    admin = make_account()
    sign_in(admin)
    page = client.get("/organiser/accounts")
    assert page.status_code == 200 and "rep@neu.example" in page.text and "National Education Union" in page.text
    assert f"/organiser/accounts/{admin.id}/disable" not in page.text  # not their own
    assert client.post(f"/organiser/accounts/{rep.id}/disable").status_code == 400  # CSRF
    response = client.post(f"/organiser/accounts/{rep.id}/disable", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 303
    assert rep_browser.get("/organiser/").status_code == 302  # signed out at once
    assert "is disabled" in client.get("/organiser/accounts").text

    page = client.get("/organiser/accounts")
    client.post(f"/organiser/accounts/{rep.id}/enable", data={"csrf_token": csrf_token(page.text)})
    db.session.refresh(rep)
    assert rep.disabled_at is None
    (disable,) = actions("account.disable")
    (enable,) = actions("account.enable")
    assert disable.actor == enable.actor == admin.email and f'"account_id": {rep.id}' in disable.details


def test_an_admin_cannot_disable_their_own_account(client, make_account, sign_in):
    admin = make_account()
    sign_in(admin)
    page = client.get("/organiser/accounts")
    client.post(f"/organiser/accounts/{admin.id}/disable", data={"csrf_token": csrf_token(page.text)})
    assert "cannot disable your own account" in client.get("/organiser/accounts").text
    db.session.refresh(admin)
    assert admin.disabled_at is None and actions("account.disable") == []


# 13. Nothing in the cookie comes from the client's address -------------------------------------


def test_the_cookie_holds_nothing_derived_from_the_client_address(app, client, keys, make_account):
    account = make_account()
    cookies = []
    for address in ["198.51.100.23", "203.0.113.42"]:
        browser = app.test_client()
        request = {"environ_base": {"REMOTE_ADDR": address}, "headers": {"User-Agent": "Same/1.0"}}
        assert sign_in_as(browser, keys, account, **request).status_code == 303
        assert browser.get("/organiser/", **request).status_code == 200
        cookies.append(session_cookie(app, browser))
    first, second = cookies
    assert "_id" not in first and "_user_id" not in first
    assert set(first) == set(second)
    random = {SESSION_TOKEN, "csrf_token"}
    assert {k: v for k, v in first.items() if k not in random} == {k: v for k, v in second.items() if k not in random}
    assert not any("198.51.100" in str(v) or "203.0.113" in str(v) for v in [*first.values(), *second.values()])
