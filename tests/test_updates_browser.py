"""An update to signers in headless Chromium, end to end: an admin signs in, writes an update,
previews it, sends themself a test, sends it, and watches the progress bar reach 100% while the
real mail worker delivers every message to an aiosmtpd server."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from email import message_from_bytes, policy

import pytest

from app.models import SignatureStatus
from tests.test_mail_workers import ROOT, CountingSink, Server, _worker_env
from tests.test_moderation_browser import sign_in

pytestmark = pytest.mark.browser

SIGNERS = 12


@pytest.fixture
def sink():
    server = Server(CountingSink())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_worker(app, sink, tmp_path):
    """`flask mail worker` in its own process, on the test's database, sending to the sink."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker", "--interval", "0.2"]
    env = _worker_env(app, sink.port, tmp_path)
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(worker.stdout), daemon=True)
    reader.start()
    yield lines
    worker.terminate()
    worker.wait(timeout=20)
    reader.join(timeout=5)
    assert not any("Traceback" in line for line in lines), "".join(lines)


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_an_admin_composes_previews_tests_and_sends_an_update_and_sees_it_delivered(
    browser, live, keys, make_account, make_signature, sink, mail_worker
):
    from playwright.sync_api import expect

    signers = [f"signer{n:02}@example.com" for n in range(SIGNERS)]
    for n, email in enumerate(signers):
        make_signature(email, f"Signer {n}", status=SignatureStatus.CONFIRMED, updates=True)
    make_signature("quiet@example.com", "Quiet Signer", status=SignatureStatus.CONFIRMED)  # asked for no updates
    make_signature("pending@example.com", "Pending Signer")  # not confirmed
    account = make_account()
    received = sink.handler

    context = browser.new_context()
    page = context.new_page()
    sign_in(page, live, keys, account)

    page.goto(f"{live}/organiser/updates")
    page.get_by_label("Subject").fill("We reached 1,000 signatures")
    page.get_by_label("Message").fill("Thank you for **signing**.\n\nRead [the report](https://example.org/report).")
    page.get_by_role("button", name="Save draft and preview").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("We reached 1,000 signatures")
    expect(page.get_by_text(f"{SIGNERS} would get it now")).to_be_visible()
    preview = page.locator(".panel.email-preview")
    expect(preview.locator("strong")).to_have_text("signing")
    expect(preview.get_by_role("link", name="the report")).to_have_attribute("href", "https://example.org/report")
    expect(page.locator("pre.email-preview")).to_contain_text("Thank you for **signing**.")

    page.get_by_role("button", name="Send a test to admin@example.org").click()
    expect(page.get_by_text("A test copy is on its way to admin@example.org.")).to_be_visible()
    wait_for(lambda: "admin@example.org" in received.recipients)
    test_copy = next(
        message_from_bytes(raw, policy=policy.default) for raw in received.messages if b"To: admin@example.org" in raw
    )
    assert test_copy["Subject"] == "[Test] We reached 1,000 signatures"

    page.get_by_role("button", name=f"Send to {SIGNERS} signers").click()
    expect(page.get_by_text(f"Sending to {SIGNERS} signers.")).to_be_visible()
    # The page refreshes itself every 5 seconds while messages are waiting.
    expect(page.locator("progress")).to_have_attribute("value", "100", timeout=60_000)
    expect(page.get_by_role("heading", name="Progress: sending")).to_be_visible()
    figures = page.locator("#progress-figures")
    expect(figures.locator("dt:text-is('Sent') + dd")).to_have_text(str(SIGNERS))
    expect(figures.locator("dt:text-is('Waiting') + dd")).to_have_text("0")

    parsed = [message_from_bytes(raw, policy=policy.default) for raw in received.messages]
    sent = [m for m in parsed if m["Subject"] == "We reached 1,000 signatures"]
    assert Counter(m["To"] for m in sent) == Counter(signers)  # every signer who asked, once; nobody else
    for message in sent:
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/manage/" in message.get_body(("plain",)).get_content()
    context.close()
