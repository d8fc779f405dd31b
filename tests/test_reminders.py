"""Confirmation reminders: one per waiting sign-up, within the email cap, never twice (also when
two runs overlap on PostgreSQL), and what the admins' dashboard makes of them."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import OutboxMessage, Signature, SignatureStatus, utcnow
from app.services.days import start_of_day
from app.services.reminders import REMINDER_EMAIL, queue_reminders
from tests.test_dashboard import per_day


def signed_ago(*signatures: Signature, hours: float) -> None:
    """Move sign-ups back in time, as if made hours ago."""
    db.session.execute(
        update(Signature)
        .where(Signature.id.in_([s.id for s in signatures]))
        .values(created_at=utcnow() - timedelta(hours=hours))
    )
    db.session.commit()


def send_reminders(app, **options) -> int:
    """The service as `flask reminders send` calls it."""
    config = app.config
    return queue_reminders(
        db.session,
        after=timedelta(hours=config["CONFIRM_REMINDER_HOURS"]),
        link_max_age=timedelta(days=config["CONFIRM_TOKEN_MAX_AGE_DAYS"]),
        max_emails=config["MAIL_MAX_PER_SIGNATURE"],
        **options,
    )


def reminders_queued() -> list[int]:
    """The signature of every reminder in the outbox."""
    return list(
        db.session.execute(select(OutboxMessage.signature_id).where(OutboxMessage.kind == REMINDER_EMAIL)).scalars()
    )


def reminder_emails(mailbox) -> list:
    return [m for m in mailbox.messages() if "waiting for you to confirm" in m["Subject"]]


def test_a_sign_up_pending_past_the_reminder_time_gets_one_reminder_that_confirms_it(
    app, client, make_signature, mailbox, confirm_via_page
):
    signature = make_signature(email="ada@example.com", name="Ada Lovelace")
    signed_ago(signature, hours=49)
    assert send_reminders(app) == 1
    (reminder,) = reminder_emails(mailbox)
    assert reminder["To"] == "ada@example.com"
    plain = reminder.get_body(("plain",)).get_content()
    html = reminder.get_body(("html",)).get_content()
    assert plain.startswith("Hello,") and "<p>Hello,</p>" in html
    assert "Ada" not in plain and "Ada" not in html  # whoever typed the name may not hold the mailbox
    assert "works for 27 more days" in plain and "works for 27 more days" in html
    assert reminder["List-Unsubscribe"].startswith("<http://localhost/manage/")
    link = mailbox.link(reminder, "confirm")
    assert f"http://localhost{link}" in html
    confirm_via_page(link)
    db.session.refresh(signature)
    assert signature.status == SignatureStatus.CONFIRMED


def test_the_reminder_counts_towards_the_email_cap(app, make_signature):
    signature = make_signature()
    signed_ago(signature, hours=49)
    send_reminders(app)
    db.session.refresh(signature)
    assert signature.emails_queued == 2


def test_a_sign_up_not_yet_due_gets_no_reminder(app, make_signature):
    signed_ago(make_signature(), hours=app.config["CONFIRM_REMINDER_HOURS"] - 1)
    assert send_reminders(app) == 0
    assert reminders_queued() == []


def test_held_invalid_and_confirmed_signatures_get_no_reminder(app, make_signature):
    held = make_signature("held@example.com", status=SignatureStatus.HELD)
    confirmed = make_signature("confirmed@example.com", status=SignatureStatus.CONFIRMED)
    invalid = make_signature("invalid@example.com")
    db.session.execute(
        update(Signature)
        .where(Signature.id == invalid.id)
        .values(status=SignatureStatus.INVALID, invalid_reason="spam")
    )
    signed_ago(held, confirmed, invalid, hours=72)
    assert send_reminders(app) == 0
    assert reminders_queued() == []


def test_a_sign_up_whose_link_has_expired_gets_no_reminder(app, make_signature):
    signed_ago(make_signature(), hours=24 * app.config["CONFIRM_TOKEN_MAX_AGE_DAYS"] + 1)
    assert send_reminders(app) == 0


def test_a_sign_up_at_the_email_cap_gets_no_reminder(app, make_signature):
    signature = make_signature()
    db.session.execute(
        update(Signature).where(Signature.id == signature.id).values(emails_queued=app.config["MAIL_MAX_PER_SIGNATURE"])
    )
    signed_ago(signature, hours=49)
    assert send_reminders(app) == 0
    assert reminders_queued() == []


def test_running_twice_sends_one_reminder(app, make_signature, mailbox):
    first, second = make_signature("a@example.com"), make_signature("b@example.com")
    signed_ago(first, second, hours=49)
    assert send_reminders(app, batch_size=1) == 2
    assert send_reminders(app) == 0
    assert sorted(reminders_queued()) == sorted([first.id, second.id])
    assert len(reminder_emails(mailbox)) == 2
    assert send_reminders(app) == 0  # also after they have gone out


def test_the_command_says_how_many_it_queued(app, runner, make_signature):
    signed_ago(make_signature(), hours=49)
    assert "Would queue 1 confirmation reminder " in runner.invoke(args=["reminders", "send", "--dry-run"]).output
    assert reminders_queued() == []
    assert "Queued 1 confirmation reminder " in runner.invoke(args=["reminders", "send"]).output
    assert "Queued 0 confirmation reminders " in runner.invoke(args=["reminders", "send"]).output


def test_overlapping_runs_send_each_signature_one_reminder(app, backend, make_signature):
    if backend != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL, the production database")
    signatures = [make_signature(f"signer{i}@example.com") for i in range(40)]
    signed_ago(*signatures, hours=49)
    runs = 4
    barrier = threading.Barrier(runs)
    results: list[int] = []
    errors: list[BaseException] = []

    def run():
        with app.app_context():
            try:
                barrier.wait()
                results.append(send_reminders(app, batch_size=3))
            except BaseException as error:  # reported below, not lost in the thread
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(results) == len(signatures)
    db.session.expire_all()
    assert sorted(reminders_queued()) == sorted(s.id for s in signatures)
    assert db.session.scalar(select(func.min(Signature.emails_queued))) == 2
    assert db.session.scalar(select(func.max(Signature.emails_queued))) == 2


def test_admins_see_the_confirmation_rate_by_day_and_confirmations_after_a_reminder(
    app, client, make_account, sign_in, make_signature, mailbox, confirm
):
    reminded = make_signature("reminded@example.com")
    unreminded = make_signature("quick@example.com", status=SignatureStatus.CONFIRMED)
    waiting = make_signature("waiting@example.com")
    signed_ago(reminded, hours=49)
    send_reminders(app)
    mailbox.deliver()  # the reminder goes out, then its owner confirms
    confirm(reminded)
    day = utcnow().date() - timedelta(days=2)
    db.session.execute(
        update(Signature)
        .where(Signature.id.in_([reminded.id, unreminded.id, waiting.id]))
        .values(created_at=start_of_day(day) + timedelta(hours=12))
    )
    db.session.commit()
    sign_in(make_account())
    page = client.get("/organiser/").text
    assert re.search(r"<strong>1</strong> confirmed after a reminder", page)
    rows = per_day(page)
    assert rows[0] == ["Day", "Signed", "Confirmed", "Confirmation rate", "Confirmed after a reminder"]
    assert {row[0]: row[1:] for row in rows}[day.isoformat()] == ["3", "2", "67%", "1"]


def test_union_organisers_see_no_reminder_figures(app, client, make_account, sign_in, make_signature, mailbox, confirm):
    reminded = make_signature("reminded@example.com", union="neu")
    signed_ago(reminded, hours=49)
    send_reminders(app)
    mailbox.deliver()
    confirm(reminded)
    sign_in(make_account("neu@example.org", "organiser", "neu"))
    page = client.get("/organiser/").text
    assert "reminder" not in page.lower()
