"""Outgoing mail: queued in the signing transaction, delivered by the worker to a real SMTP
server (aiosmtpd on loopback), retried with backoff while the server is down."""

import socket
import time
from datetime import timedelta
from email import message_from_bytes, policy
from functools import partial

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from app.extensions import db
from app.mail_render import build_message
from app.models import OutboxMessage, SignatureStatus, utcnow
from app.services.mail_delivery import RetryPolicy, deliver_due
from app.services.mail_transport import SmtpSettings, SmtpTransport


class Collector:
    """Keeps each message exactly as the server received it."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope.content)
        return "250 OK"


class Refuser:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such mailbox"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_app(app):
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT_SECONDS=2)
    return app


def start_server(port, handler):
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


def deliver(app):
    return deliver_due(
        db.session,
        partial(build_message, keys=app.extensions["care_keys"]),
        SmtpTransport(SmtpSettings.from_config(app.config)),
        RetryPolicy.from_config(app.config),
    )


def test_confirmation_email_reaches_a_real_smtp_server(smtp_app, make_signup):
    collector = Collector()
    server = start_server(smtp_app.config["MAIL_PORT"], collector)
    try:
        make_signup(email="ada@example.com", name="Ada")
        report = deliver(smtp_app)
    finally:
        server.stop()
    assert report.sent == 1
    (raw,) = collector.messages
    message = message_from_bytes(raw, policy=policy.default)
    assert message["To"] == "ada@example.com"
    assert "Confirm" in message["Subject"]
    assert message["List-Unsubscribe"].startswith("<http://localhost/manage/")
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "/confirm/" in plain and "/confirm/" in html
    assert "/manage/" in plain and "/manage/" in html


def test_mail_waits_while_the_server_is_down_and_goes_when_it_returns(smtp_app, make_signup):
    make_signup()
    report = deliver(smtp_app)  # nothing listening on the port
    assert report.sent == 0 and report.retried == 1
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.sent_at is None and message.attempts == 1 and message.last_error
    assert message.next_attempt_at > utcnow()
    first_delay = message.next_attempt_at - utcnow()
    assert deliver(smtp_app).retried == 0  # not due yet: backoff
    db.session.refresh(message)
    assert message.attempts == 1

    # The second failure waits longer than the first (exponential backoff).
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    deliver(smtp_app)
    db.session.refresh(message)
    assert message.attempts == 2
    assert message.next_attempt_at - utcnow() > first_delay

    collector = Collector()
    server = start_server(smtp_app.config["MAIL_PORT"], collector)
    try:
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        report = deliver(smtp_app)
    finally:
        server.stop()
    assert report.sent == 1 and len(collector.messages) == 1
    db.session.refresh(message)
    assert message.sent_at is not None


def test_a_refused_recipient_is_kept_as_failed_not_retried_forever(smtp_app, make_signup):
    server = start_server(smtp_app.config["MAIL_PORT"], Refuser())
    try:
        make_signup()
        report = deliver(smtp_app)
    finally:
        server.stop()
    assert report.failed == 1
    message = db.session.execute(select(OutboxMessage)).scalar_one()
    assert message.failed_at is not None and "550" in message.last_error


def test_signing_never_talks_to_the_mail_server(smtp_app, sign_via_form):
    # No SMTP server is running: the request must still succeed at once.
    started = time.monotonic()
    response = sign_via_form()
    assert response.status_code == 303
    assert time.monotonic() - started < 1.5
    assert db.session.execute(select(OutboxMessage.sent_at)).scalar_one() is None


def test_file_sink_used_without_mail_server(app, make_signup, mailbox):
    make_signup(email="ada@example.com")
    (message,) = mailbox.messages()
    assert message["To"] == "ada@example.com"


def test_file_sink_is_readable_by_its_owner_only(app, make_signup, mailbox):
    import stat
    from pathlib import Path

    make_signup(email="ada@example.com")
    mailbox.messages()
    sink = Path(app.config["MAIL_SINK_DIR"])
    files = list(sink.glob("*.eml"))
    assert files and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    assert stat.S_IMODE(sink.stat().st_mode) & 0o077 == 0


def test_mail_before_confirmation_greets_no_one_by_name(app, make_signup, mailbox):
    # Whatever is typed as a name must not reach someone else's inbox in our words.
    make_signup(email="victim@example.com", name="Mallory Says Call 0800 000 000")
    (message,) = mailbox.messages()
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert plain.startswith("Hello,\n") and "<p>Hello,</p>" in html
    assert "Mallory" not in plain and "Mallory" not in html and "0800" not in plain + html


def test_already_signed_mail_greets_by_the_name_its_owner_confirmed(app, make_signature, make_signup, mailbox):
    make_signature(email="ada@example.com", name="Ada Lovelace", status=SignatureStatus.CONFIRMED)
    make_signup(email="ada@example.com", name="Mallory")
    already = mailbox.messages()[-1]
    assert "already signed" in already["Subject"]
    plain = already.get_body(("plain",)).get_content()
    assert plain.startswith("Hello Ada Lovelace,") and "Mallory" not in plain
