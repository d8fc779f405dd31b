"""The mail queue under several workers and a long-lived SMTP connection, against a real
aiosmtpd server: every message delivered exactly once, one connection for many messages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from email import message_from_bytes, policy
from functools import partial
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from app.extensions import db
from app.mail_render import build_message
from app.models import OutboxMessage, utcnow
from app.services.mail_delivery import RetryPolicy, deliver_due
from app.services.mail_transport import SmtpSettings, SmtpTransport
from tests.test_mail import free_port

ROOT = Path(__file__).resolve().parent.parent


class CountingSink:
    """Records each message's recipients as received, and how many connections were opened."""

    def __init__(self):
        self.recipients: list[str] = []
        self.messages: list[bytes] = []
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.recipients.extend(envelope.rcpt_tos)
        self.messages.append(envelope.content)
        return "250 OK"


class Server:
    """An aiosmtpd server on a fixed loopback port that can be stopped and started again."""

    def __init__(self, handler):
        self.handler = handler
        self.port = free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def sink():
    server = Server(CountingSink())
    server.start()
    yield server.handler, server
    server.stop()


def due_messages() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None)))


def test_one_connection_carries_many_messages_and_a_dropped_one_is_reopened(app, make_signup, sink):
    handler, controller = sink
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port, MAIL_TIMEOUT_SECONDS=2)
    transport = SmtpTransport(SmtpSettings.from_config(app.config))
    deliver = partial(
        deliver_due,
        db.session,
        partial(build_message, keys=app.extensions["care_keys"]),
        transport,
        RetryPolicy.from_config(app.config),
    )
    for i in range(5):
        make_signup(email=f"signer{i}@example.com")
    assert deliver().sent == 5
    assert handler.connections == 1 and len(handler.recipients) == 5

    # The server goes away and comes back: the connection held open is dead. The next message
    # goes on a new connection, not into backoff, and is sent once.
    controller.stop()
    controller.start()
    make_signup(email="later@example.com")
    report = deliver()
    transport.close()
    assert report.sent == 1 and report.retried == 0
    assert handler.recipients.count("later@example.com") == 1
    assert handler.connections == 2
    message = message_from_bytes(handler.messages[-1], policy=policy.default)
    assert message["To"] == "later@example.com" and "/confirm/" in message.get_body(("plain",)).get_content()


def test_a_batch_stops_at_a_server_outage_and_keeps_the_rest_due(app, make_signup):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT_SECONDS=2)
    for i in range(3):
        make_signup(email=f"signer{i}@example.com")
    report = deliver_due(
        db.session,
        partial(build_message, keys=app.extensions["care_keys"]),
        SmtpTransport(SmtpSettings.from_config(app.config)),
        RetryPolicy.from_config(app.config),
    )
    assert report.claimed == 3 and report.retried == 1 and report.interrupted
    attempts = sorted(db.session.execute(select(OutboxMessage.attempts)).scalars())
    assert attempts == [0, 0, 1]  # the other two were not tried, so not pushed back
    assert due_messages() == 3


def _worker_env(app, port: int, tmp_path) -> dict[str, str]:
    config = app.config
    return {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": config["SECRET_KEY"],
        "ENCRYPTION_KEY": config["ENCRYPTION_KEY"],
        "BLIND_INDEX_KEY": config["BLIND_INDEX_KEY"],
        "SITE_URL": "http://localhost",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
        "LOG_LEVEL": "INFO",
    }


def test_workers_running_at_once_deliver_every_message_exactly_once(app, backend, make_signup, sink, tmp_path):
    if backend != "postgresql":
        pytest.skip("several workers share the queue through row locks: PostgreSQL only")
    handler, controller = sink
    count = 300
    for i in range(count):
        make_signup(email=f"signer{i}@example.com")
    # Not due until every worker is up, so that they all start on a full queue.
    db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow() + timedelta(days=1)))
    db.session.commit()

    env = _worker_env(app, controller.port, tmp_path)
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker", "--interval", "0.05", "--batch", "7"]
    workers = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(3)
    ]
    logs: list[list[str]] = [[] for _ in workers]
    started = threading.Semaphore(0)

    def read(process, lines):
        for line in process.stdout:
            lines.append(line)
            if "mail worker started" in line:
                started.release()

    pairs = zip(workers, logs, strict=True)
    readers = [threading.Thread(target=read, args=(w, lines), daemon=True) for w, lines in pairs]
    for reader in readers:
        reader.start()
    try:
        for _ in workers:
            assert started.acquire(timeout=60), "a worker did not start"
        db.session.execute(update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()
        deadline = time.monotonic() + 60
        while due_messages() and time.monotonic() < deadline:
            time.sleep(0.1)
            db.session.rollback()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=20)
        for reader in readers:
            reader.join(timeout=5)

    received = Counter(handler.recipients)
    assert len(received) == count and set(received.values()) == {1}
    rows = db.session.execute(select(OutboxMessage.sent_at, OutboxMessage.attempts)).all()
    assert len(rows) == count and all(sent is not None and attempts == 1 for sent, attempts in rows)
    # They really ran at once: each worker sent a share.
    sent_by = [sum(int(n) for line in lines for n in re.findall(r"mail: sent=(\d+)", line)) for lines in logs]
    assert sum(sent_by) == count and all(sent_by), sent_by
    assert not any("Traceback" in line for lines in logs for line in lines)


def test_the_worker_command_sends_what_is_due_and_exits_with_once(app, runner, make_signup, mailbox):
    for i in range(3):
        make_signup(email=f"signer{i}@example.com")
    result = runner.invoke(args=["mail", "worker", "--once", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert due_messages() == 0
    assert sorted(m["To"] for m in mailbox.messages()) == [f"signer{i}@example.com" for i in range(3)]
