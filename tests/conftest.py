"""Fixtures: an app per test on SQLite and on PostgreSQL (when TEST_DATABASE_URL is set),
schemas built by the real migrations, rows cleaned after each test, make_* factories."""

from __future__ import annotations

import html
import os
import re
import shutil
import time
from dataclasses import replace
from email import message_from_bytes, policy
from functools import partial
from pathlib import Path

import pyotp
import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from app import content_loader, create_app
from app.extensions import Base, db
from app.mail_render import build_message
from app.models import Signature, SignatureStatus
from app.services import organisers, tokens, two_factor
from app.services.confirmation import confirm_signature, offered_confirmation
from app.services.mail_delivery import RetryPolicy, deliver_due
from app.services.mail_transport import transport_from_config
from app.services.normalise import canonical_email
from app.services.seed import seed_reference_data
from app.services.signing import HoldReason, SignOutcome, SignUp, sign_pledge
from tests.forms import csrf_token
from tests.organisers import PASSWORD as ORGANISER_PASSWORD
from tests.organisers import sign_in_as

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")


def _require(flag: str) -> bool:
    return os.environ.get(flag) == "1"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory) -> str:
    """One migrated, empty database per backend for the whole run."""
    if request.param == "postgresql":
        if not POSTGRES_URL:
            if _require("REQUIRE_POSTGRES"):
                pytest.fail("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set")
            pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (CI sets it)")
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def backend(database_url) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=database_url,
        MAIL_SINK_DIR=str(tmp_path / "mail"),
    )
    with app.app_context():
        seed_reference_data(db.session, content_loader.sectors(), content_loader.organisations())
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables() -> None:
    tables = Base.metadata.sorted_tables
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":  # TRUNCATE also passes the audit log's append-only trigger
            conn.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                conn.execute(table.delete())


class FreshContextClient(FlaskClient):
    """Each request gets its own app context (g, database session), as in a real server;
    the test's own session is expired afterwards so it sees what the request committed."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def client(app):
    app.test_client_class = FreshContextClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def keys(app):
    return app.extensions["care_keys"]


@pytest.fixture
def sector_id(app):
    from app.models import Sector

    return lambda slug="education": db.session.execute(db.select(Sector.id).where(Sector.slug == slug)).scalar_one()


@pytest.fixture
def org_id(app):
    from app.models import Organisation

    return lambda slug: db.session.execute(db.select(Organisation.id).where(Organisation.slug == slug)).scalar_one()


@pytest.fixture
def make_signup(app, keys, sector_id):
    """Sign through the service, as the form would; returns the outcome."""

    def make(email="ada@example.com", name="Ada Lovelace", sector="education", hold_reason=None, **fields):
        signup = SignUp(
            name=name,
            email=email,
            sector_id=sector_id(sector),
            wording_version=content_loader.pledge()["version"],
            **fields,
        )
        return sign_pledge(db.session, keys, signup, app.config["MAIL_MAX_PER_SIGNATURE"], hold_reason)

    return make


@pytest.fixture
def make_signature(make_signup, keys, org_id, confirm):
    """Sign through the service and return the new signature: pending as signed, confirmed as
    its owner would confirm it, or held as a honeypot catch. updates and share_union are the
    owner's choices on confirming: a pending or held signature has neither, whatever is asked."""

    def make(
        email="ada@example.com",
        name="Ada Lovelace",
        sector="education",
        union=None,
        *,
        updates=False,
        share_union=False,
        source=None,
        postcode=None,
        status=SignatureStatus.PENDING,
    ) -> Signature:
        if status not in (SignatureStatus.PENDING, SignatureStatus.CONFIRMED, SignatureStatus.HELD):
            raise ValueError(f"signing cannot leave a signature {status}")
        held = status is SignatureStatus.HELD
        outcome = make_signup(
            email=email,
            name=name,
            sector=sector,
            organisation_id=org_id(union) if union else None,
            source=source,
            postcode_outward=postcode,
            hold_reason=HoldReason.HONEYPOT if held else None,
        )
        assert outcome is (SignOutcome.HELD if held else SignOutcome.CREATED), outcome
        key = keys.cipher.blind_index(canonical_email(email))
        signature = db.session.execute(db.select(Signature).where(Signature.email_key == key)).scalar_one()
        if status is SignatureStatus.CONFIRMED:
            return confirm(signature, updates=updates, share_union=share_union)
        return signature

    return make


@pytest.fixture
def confirm_token(keys):
    """The token in a signature's confirmation link, as its email carries it."""
    return lambda signature: tokens.make_token(keys.token_key, tokens.CONFIRM, signature.id, signature.token_nonce)


@pytest.fixture
def confirm(keys, confirm_token):
    """Confirm a signature through the service as its owner would on the confirmation page: the
    details as shown, the name as given (or corrected) and the two choices; returns it."""

    def confirm_as_owner(signature, *, updates=False, share_union=False, name=None):
        offered = offered_confirmation(keys, signature, content_loader.pledge()["version"])
        chosen = replace(offered, name=name or offered.name, consent_updates=updates, consent_share_union=share_union)
        confirm_signature(db.session, keys, confirm_token(signature), 3600, chosen)
        return db.session.get(Signature, signature.id)

    return confirm_as_owner


@pytest.fixture
def confirm_via_page(client):
    """Open a confirmation link and press its button, sending the page's own fields (the name and
    the details shown) with any changed or added; e.g. consent_updates="y". Returns the response."""

    def press(path: str, **fields):
        page = client.get(path)
        assert page.status_code == 200, page.status_code
        data = {
            re.search(r'\sname="([^"]+)"', tag).group(1): html.unescape(value.group(1))
            for tag in re.findall(r"<input[^>]*>", page.text)
            if 'type="checkbox"' not in tag and (value := re.search(r'value="([^"]*)"', tag))
        }
        data.update(fields)
        return client.post(path, data=data)

    return press


@pytest.fixture
def confirm_all(confirm):
    """Confirm every signature in the database, as their owners pressing the button would."""

    def confirm_every():
        for signature in db.session.execute(db.select(Signature)).scalars().all():
            confirm(signature)

    return confirm_every


@pytest.fixture
def mailbox(app):
    """Delivers the queue to the file sink and reads what arrived."""

    class Mailbox:
        directory = Path(app.config["MAIL_SINK_DIR"])

        def deliver(self):
            return deliver_due(
                db.session,
                partial(build_message, keys=app.extensions["care_keys"]),
                transport_from_config(app.config),
                RetryPolicy.from_config(app.config),
            )

        def messages(self):
            self.deliver()
            if not self.directory.exists():
                return []
            return [
                message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(self.directory.glob("*.eml"))
            ]

        def link(self, message, path: str) -> str:
            body = message.get_body(("plain",)).get_content()
            match = re.search(rf"https?://\S+?(/{path}/[A-Za-z0-9._-]+)", body)
            assert match, f"no /{path}/ link in the email"
            return match.group(1)

    return Mailbox()


@pytest.fixture
def sign_via_form(client):
    """Fill in and send a sign-up form through the test client (lang="cy": the Welsh form); returns the response."""

    def submit(sector="education", query="", lang=None, **fields):
        path = f"{'/' + lang if lang else ''}/sign/{sector}{query}"
        page = client.get(path)
        data = {"name": "Grace Hopper", "email": "grace@example.com", "csrf_token": csrf_token(page.text)}
        data.update(fields)
        return client.post(path, data=data)

    return submit


@pytest.fixture
def make_account(app, keys):
    """An organiser account with its password set (tests.organisers.PASSWORD) and, unless
    totp=False, two-factor switched on through the set-up service with a code from a minute ago."""

    def make(email="admin@example.org", role="admin", org=None, totp=True):
        account = organisers.create_organiser(db.session, email, role, org)
        link = organisers.password_link_token(keys, account)
        organisers.set_password(db.session, keys, link, ORGANISER_PASSWORD, max_age_seconds=3600, min_length=12)
        if totp:
            secret = two_factor.begin_totp_setup(db.session, keys, account)
            earlier = time.time() - 60
            code = pyotp.TOTP(secret).generate_otp(int(earlier) // 30)
            two_factor.confirm_totp(db.session, keys, account, code, now=earlier)
        return account

    return make


@pytest.fixture
def sign_in(client, keys):
    """Sign an organiser in through the pages: password, then a fresh two-factor code if asked.
    Returns the last response; keyword arguments go to every request (e.g. environ_base)."""
    return lambda account, password=ORGANISER_PASSWORD, **request: sign_in_as(
        client, keys, account, password, **request
    )


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright (one per run: Playwright's sync API allows one)."""
    if not shutil.which(CHROMIUM):
        if _require("REQUIRE_BROWSER"):
            pytest.fail("REQUIRE_BROWSER=1 but /usr/bin/chromium is not installed")
        pytest.skip("browser tests need Debian's chromium at /usr/bin/chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def live(app):
    """The app under real gunicorn on the test database, with counts polled every second."""
    from tests.live_server import gunicorn_server

    with gunicorn_server(app, workers=1, threads=4, extra_env={"COUNT_POLL_SECONDS": "1"}) as base:
        yield base
