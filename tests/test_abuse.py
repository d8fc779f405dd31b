"""Rate limits, silent rejection (held sign-ups) and the pause switch."""

import os
import uuid

import pytest
from sqlalchemy import select

from app.extensions import db, limiter
from app.models import BlockedDomain, OutboxMessage, Signature, SignatureStatus
from app.services.signing import HoldReason
from tests.forms import csrf_token

REDIS_URL = os.environ.get("RATELIMIT_TEST_REDIS_URL")


def statuses():
    return db.session.execute(select(Signature.status, Signature.held_reason).order_by(Signature.id)).all()


@pytest.fixture
def tight_limits(app):
    app.config["RATELIMIT_SIGN"] = "3 per minute"
    limiter.reset()
    yield
    limiter.reset()


def _sign_many(sign_via_form, n, **fields):
    pages = []
    for i in range(n):
        response = sign_via_form(email=f"person{i}-{uuid.uuid4().hex[:6]}@example.com", **fields)
        assert response.status_code == 303
        pages.append(response.headers["Location"])
    return pages


def test_over_the_limit_sign_ups_are_held_silently(client, sign_via_form, tight_limits):
    pages = _sign_many(sign_via_form, 5)
    assert len(set(pages)) == 1  # everyone is sent to the same "check your email" page
    rows = statuses()
    assert [s for s, _ in rows] == [SignatureStatus.PENDING] * 3 + [SignatureStatus.HELD] * 2
    assert {r for _, r in rows[3:]} == {HoldReason.RATE_LIMITED}
    # held sign-ups are neither emailed nor counted
    assert db.session.scalar(select(db.func.count()).select_from(OutboxMessage)) == 3
    assert client.get("/api/v1/counts").json["total"] == 0


def test_limit_is_per_client_address(client, sign_via_form, tight_limits):
    for i in range(3):
        page = client.get("/sign/education")
        client.post(
            "/sign/education",
            environ_base={"REMOTE_ADDR": "198.51.100.1"},
            data={"name": "A", "email": f"a{i}@example.com", "csrf_token": csrf_token(page.text)},
        )
    page = client.get("/sign/education")
    client.post(
        "/sign/education",
        environ_base={"REMOTE_ADDR": "198.51.100.2"},
        data={"name": "B", "email": "b@example.com", "csrf_token": csrf_token(page.text)},
    )
    assert [s for s, _ in statuses()] == [SignatureStatus.PENDING] * 4


def test_spoofed_forwarded_for_does_not_get_round_the_limit(client, tight_limits):
    for i in range(5):
        page = client.get("/sign/education")
        client.post(
            "/sign/education",
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
            data={"name": "A", "email": f"x{i}@example.com", "csrf_token": csrf_token(page.text)},
        )
    assert [s for s, _ in statuses()].count(SignatureStatus.HELD) == 2


def test_forwarded_for_counts_only_behind_a_configured_proxy(database_url):
    from app import create_app
    from app.rate_limits import client_key

    seen = []
    for trusted in (1, 0):
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, TRUSTED_PROXIES=trusted)
        app.add_url_rule("/_whoami", "whoami", lambda: seen.append(client_key()) or "ok")
        app.test_client().get(
            "/_whoami", environ_base={"REMOTE_ADDR": "10.0.0.1"}, headers={"X-Forwarded-For": "198.51.100.7"}
        )
    assert seen == ["198.51.100.7", "10.0.0.1"]


def test_ipv6_clients_are_limited_by_their_64(app):
    from app.rate_limits import client_key

    keys = set()
    for address in ["2001:db8:1:2::1", "2001:db8:1:2::abcd:1", "2001:db8:1:2:ffff:ffff:ffff:ffff"]:
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": address}):
            keys.add(client_key())
    assert keys == {"2001:db8:1:2::/64"}


def test_honeypot_sign_up_is_held_silently(sign_via_form):
    response = sign_via_form(website="http://spam.example")
    assert response.status_code == 303 and response.headers["Location"].endswith("/check-email")
    assert statuses() == [(SignatureStatus.HELD, HoldReason.HONEYPOT)]
    assert db.session.execute(select(OutboxMessage)).first() is None


def test_blocked_domain_sign_up_is_held_silently(sign_via_form):
    db.session.add(BlockedDomain(domain="spam.example", reason="test"))
    db.session.commit()
    assert sign_via_form(email="bot@mx.spam.example").status_code == 303
    assert statuses() == [(SignatureStatus.HELD, HoldReason.BLOCKED_DOMAIN)]


def test_a_clean_resubmission_releases_a_held_sign_up(sign_via_form, mailbox):
    sign_via_form(email="real@example.com", website="filled")
    assert mailbox.messages() == []
    sign_via_form(email="real@example.com")
    assert statuses() == [(SignatureStatus.PENDING, None)]
    assert len(mailbox.messages()) == 1


def test_a_suspicious_resubmission_changes_nothing(sign_via_form, mailbox):
    sign_via_form(email="real@example.com")
    sign_via_form(email="real@example.com", website="filled")
    assert statuses() == [(SignatureStatus.PENDING, None)]
    assert len(mailbox.messages()) == 1


def test_pause_switch_stops_signing_but_not_counts(client, runner, sign_via_form):
    token = csrf_token(client.get("/sign/education").text)  # a form opened before the pause
    assert "paused" in runner.invoke(args=["signing", "pause"]).output
    page = client.get("/sign/education")
    assert "Signing is paused" in page.text and 'name="email"' not in page.text
    assert "Signing is paused" in client.get("/").text
    response = client.post("/sign/education", data={"name": "A", "email": "a@example.com", "csrf_token": token})
    assert response.status_code == 503 and "Nothing you entered has been saved" in response.text
    assert db.session.execute(select(Signature)).first() is None
    assert client.get("/api/v1/counts").status_code == 200
    assert runner.invoke(args=["signing", "status"]).output.strip() == "paused"
    runner.invoke(args=["signing", "resume"])
    assert sign_via_form().status_code == 303


def test_public_api_is_rate_limited_with_a_json_429(app, client):
    app.config["RATELIMIT_API"] = "3 per minute"
    limiter.reset()
    codes = [client.get("/api/v1/counts").status_code for _ in range(5)]
    limiter.reset()
    assert codes == [200, 200, 200, 429, 429]
    response = client.get("/api/v1/counts")
    assert response.status_code == 200


@pytest.mark.skipif(not REDIS_URL, reason="Redis rate-limit tests need RATELIMIT_TEST_REDIS_URL (CI sets it)")
def test_limits_are_shared_through_redis(database_url, tmp_path):
    """Two app instances (as two processes would be) share one Redis-backed limit."""
    import redis

    from app import create_app

    redis.Redis.from_url(REDIS_URL).flushdb()
    settings = dict(
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_SIGN="3 per minute",
        MAIL_SINK_DIR=str(tmp_path),
    )
    apps = [create_app("testing", **settings), create_app("testing", **settings)]
    from app import content_loader
    from app.services.seed import seed_reference_data

    with apps[0].app_context():
        seed_reference_data(db.session, content_loader.sectors(), content_loader.organisations())
    try:
        for i in range(6):
            app = apps[i % 2]
            with app.app_context():
                client = app.test_client()
                page = client.get("/sign/education")
                client.post(
                    "/sign/education",
                    environ_base={"REMOTE_ADDR": "192.0.2.9"},
                    data={"name": "A", "email": f"r{i}@example.com", "csrf_token": csrf_token(page.text)},
                )
        with apps[0].app_context():
            held = db.session.execute(select(Signature.status)).scalars().all()
            assert held.count(SignatureStatus.HELD) == 3 and held.count(SignatureStatus.PENDING) == 3
            assert redis.Redis.from_url(REDIS_URL).keys("*")
    finally:
        redis.Redis.from_url(REDIS_URL).flushdb()


@pytest.mark.skipif(not REDIS_URL, reason="Redis rate-limit tests need RATELIMIT_TEST_REDIS_URL (CI sets it)")
def test_redis_windows_count_every_limit_of_a_setting_and_only_hits_with_room(database_url):
    """Our one-round-trip Redis windows behave as Flask-Limiter's moving windows: a hit is
    recorded in a window only while it has room, and each scope has its own windows."""
    import redis

    from app import create_app
    from app.rate_limits import over_limit, within_limit

    redis.Redis.from_url(REDIS_URL).flushdb()
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_TEST="2 per minute; 3 per hour",
    )
    try:
        with app.app_context():
            assert app.extensions["care_redis_windows"] is not None
            hits = [over_limit("RATELIMIT_TEST", "198.51.100.1") for _ in range(4)]
            assert hits == [False, False, True, True]
            assert not within_limit("RATELIMIT_TEST", "198.51.100.1")
            assert within_limit("RATELIMIT_TEST", "198.51.100.2")  # another address: its own windows
            assert over_limit("RATELIMIT_TEST", "198.51.100.2") is False
            # Each window records a hit while it has room, as Flask-Limiter does limit by limit:
            # the third hit, refused by the minute, still counts in the hour; the fourth in neither.
            store = redis.Redis.from_url(REDIS_URL)
            assert [store.zcard(key) for key in store.keys("care-limit/RATELIMIT_TEST/198.51.100.1/3/*")] == [3]
            assert [store.zcard(key) for key in store.keys("care-limit/RATELIMIT_TEST/198.51.100.1/2/*")] == [2]
    finally:
        redis.Redis.from_url(REDIS_URL).flushdb()


def test_an_unreachable_redis_fails_open(database_url):
    """Losing a real signature is worse than letting a few extra sign-ups into review."""
    from app import create_app
    from app.rate_limits import over_limit, within_limit

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0")
    with app.app_context():
        assert app.extensions["care_redis_windows"] is not None
        assert over_limit("RATELIMIT_SIGN", "198.51.100.1") is False
        assert within_limit("RATELIMIT_LOGIN_IP", "198.51.100.1") is True


def test_ipv4_mapped_ipv6_clients_are_limited_by_their_ipv4_address(app):
    from app.rate_limits import client_key

    seen = []
    for address in ["::ffff:198.51.100.7", "::ffff:203.0.113.9", "198.51.100.7"]:
        with app.test_request_context("/", environ_base={"REMOTE_ADDR": address}):
            seen.append(client_key())
    assert seen == ["198.51.100.7", "203.0.113.9", "198.51.100.7"]
