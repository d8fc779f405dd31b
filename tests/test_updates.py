"""Updates to signers: the audience, bulk queueing, priority and pace in the worker, checks at
send time, pause and cancel, one-click unsubscribe, and the admin pages."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import AuditEvent, CampaignUpdate, OutboxMessage, Signature, SignatureStatus
from app.services import audit, tokens, updates
from app.services.updates import Audience
from tests.forms import csrf_token

ADMIN = audit.Actor(None, "cli")


@pytest.fixture
def signers(make_signature):
    """Four confirmed signers (three want updates), one pending, one held, one invalidated."""
    made = {
        "ada": make_signature("ada@example.com", "Ada", "education", status=SignatureStatus.CONFIRMED, updates=True),
        "bob": make_signature(
            "bob@example.com", "Bob", "health", "unison", status=SignatureStatus.CONFIRMED, updates=True
        ),
        "cy": make_signature(
            "cy@example.com", "Cy", "education", "neu", status=SignatureStatus.CONFIRMED, updates=True
        ),
        "dee": make_signature("dee@example.com", "Dee", "education", status=SignatureStatus.CONFIRMED),
        "eve": make_signature("eve@example.com", "Eve", "education"),
        "fay": make_signature("fay@example.com", "Fay", "education", status=SignatureStatus.HELD),
        "gus": make_signature("gus@example.com", "Gus", "education", status=SignatureStatus.CONFIRMED, updates=True),
    }
    db.session.execute(
        update(Signature)
        .where(Signature.id == made["gus"].id)
        .values(status=SignatureStatus.INVALID, invalid_reason="spam")
    )
    db.session.commit()
    return made


def new_update(sector_id=None, organisation_id=None, body="Hello **all**.") -> int:
    item = updates.save_draft(
        db.session,
        ADMIN,
        subject="News from the campaign",
        body_markdown=body,
        audience=Audience(sector_id=sector_id, organisation_id=organisation_id),
    )
    return item.id


def update_rows(update_id: int) -> list[OutboxMessage]:
    return list(db.session.execute(select(OutboxMessage).where(OutboxMessage.update_id == update_id)).scalars())


def test_the_audience_is_confirmed_signers_who_asked_narrowed_by_sector_and_union(app, signers, sector_id, org_id):
    assert updates.audience_size(db.session, Audience()) == 3  # ada, bob, cy
    assert updates.audience_size(db.session, Audience(sector_id=sector_id("education"))) == 2
    assert updates.audience_size(db.session, Audience(organisation_id=org_id("neu"))) == 1
    nobody = Audience(sector_id=sector_id("health"), organisation_id=org_id("neu"))
    assert updates.audience_size(db.session, nobody) == 0


def test_send_queues_one_row_per_recipient_once_with_no_personal_data(app, signers):
    update_id = new_update()
    assert updates.queue_update(db.session, ADMIN, update_id) == 3
    assert updates.queue_update(db.session, ADMIN, update_id) == 3  # pressed twice: sent once
    rows = update_rows(update_id)
    assert sorted(r.signature_id for r in rows) == sorted(signers[n].id for n in ("ada", "bob", "cy"))
    assert {(r.kind, r.priority, r.organiser_id) for r in rows} == {("update", 1, None)}
    assert db.session.get(CampaignUpdate, update_id).recipients == 3
    events = db.session.execute(select(AuditEvent.details).where(AuditEvent.action == "update.sent")).scalars().all()
    assert [json.loads(e)["recipients"] for e in events] == [3]


def test_confirmations_go_before_updates_and_updates_keep_their_pace(app, signers, make_signup, mailbox):
    mailbox.deliver()  # the signers' own confirmation emails
    updates.queue_update(db.session, ADMIN, new_update())
    make_signup(email="newcomer@example.com")
    from functools import partial

    from app.mail_render import build_message
    from app.services.mail_delivery import RetryPolicy, deliver_due
    from app.services.mail_transport import transport_from_config

    deliver = partial(
        deliver_due,
        db.session,
        partial(build_message, keys=app.extensions["care_keys"]),
        transport_from_config(app.config),
        RetryPolicy.from_config(app.config),
    )
    first = deliver(limit=1)
    assert first.sent == 1 and first.bulk_claimed == 0
    confirmation = db.session.execute(select(OutboxMessage).where(OutboxMessage.kind == "confirm")).scalars().all()
    assert all(m.sent_at is not None for m in confirmation)
    assert deliver(bulk_limit=0).claimed == 0  # no updates allowed this second: none claimed
    paced = deliver(bulk_limit=2)
    assert paced.sent == 2 and paced.bulk_claimed == 2
    assert deliver(bulk_limit=2).sent == 1


def test_an_update_email_carries_one_click_unsubscribe_and_escapes_html(app, signers, mailbox, client):
    before = len(mailbox.messages())
    update_id = new_update(body="Read [the report](https://example.org/r).\n\n<script>alert(1)</script>")
    updates.queue_update(db.session, ADMIN, update_id)
    received = mailbox.messages()[before:]
    assert sorted(m["To"] for m in received) == ["ada@example.com", "bob@example.com", "cy@example.com"]
    message = next(m for m in received if m["To"] == "ada@example.com")
    assert message["Subject"] == "News from the campaign"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<http://localhost(/updates/\d+/unsubscribe/\S+)>", message["List-Unsubscribe"]).group(1)
    html = message.get_body(("html",)).get_content()
    assert '<a href="https://example.org/r">the report</a>' in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert message.get_body(("plain",)).get_content().startswith("Hello Ada,")

    # A mail client's one-click POST: no page, no cookie, no CSRF token.
    assert client.get(url).status_code == 200
    assert db.session.get(Signature, signers["ada"].id).consent_updates  # GET changes nothing
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert client.post(url, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert not db.session.get(Signature, signers["ada"].id).consent_updates
    assert db.session.get(Signature, signers["bob"].id).consent_updates  # that signature only
    assert updates.progress(db.session, update_id).unsubscribed == 1  # counted once
    # The link is bound to its update and its signature.
    other = url.replace(f"/updates/{update_id}/", f"/updates/{update_id + 1}/")
    assert client.post(other).status_code == 404
    assert client.post(url[:-3] + "AAA").status_code == 404


def test_signers_who_stopped_updates_or_were_removed_after_queueing_are_skipped(app, signers, mailbox):
    mailbox.deliver()
    update_id = new_update()
    updates.queue_update(db.session, ADMIN, update_id)
    db.session.execute(
        update(Signature)
        .where(Signature.id == signers["bob"].id)
        .values(status=SignatureStatus.INVALID, invalid_reason="spam")
    )
    db.session.execute(update(Signature).where(Signature.id == signers["cy"].id).values(consent_updates=False))
    db.session.commit()
    report = mailbox.deliver()
    assert report.sent == 1 and report.skipped == 2
    progress = updates.progress(db.session, update_id)
    assert (progress.sent, progress.not_sent, progress.waiting, progress.percent) == (1, 2, 0, 100)


def test_paused_updates_wait_and_cancelled_ones_never_go(app, signers, mailbox):
    mailbox.deliver()
    update_id = new_update()
    updates.queue_update(db.session, ADMIN, update_id)
    assert updates.pause_update(db.session, ADMIN, update_id)
    assert mailbox.deliver().claimed == 0
    assert updates.resume_update(db.session, ADMIN, update_id)
    from functools import partial

    from app.mail_render import build_message
    from app.services.mail_delivery import RetryPolicy, deliver_due
    from app.services.mail_transport import transport_from_config

    deliver_due(
        db.session,
        partial(build_message, keys=app.extensions["care_keys"]),
        transport_from_config(app.config),
        RetryPolicy.from_config(app.config),
        bulk_limit=1,
    )
    assert updates.cancel_update(db.session, ADMIN, update_id)
    assert not updates.cancel_update(db.session, ADMIN, update_id)
    assert mailbox.deliver().claimed == 0
    progress = updates.progress(db.session, update_id)
    assert (progress.sent, progress.not_sent, progress.waiting, progress.status) == (1, 2, 0, "cancelled")
    actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert [a for a in actions if a.startswith("update.") and a != "update.draft_saved"] == [
        "update.sent",
        "update.paused",
        "update.resumed",
        "update.cancelled",
    ]


def test_an_admin_writes_previews_tests_and_sends_an_update(app, client, make_account, sign_in, signers, mailbox):
    mailbox.deliver()
    before = len(mailbox.messages())
    sign_in(make_account())
    page = client.get("/organiser/updates")
    assert page.status_code == 200
    response = client.post(
        "/organiser/updates",
        data={
            "csrf_token": csrf_token(page.text),
            "subject": "We reached 1,000",
            "body": "Thank you. <b>bold?</b>",
            "sector": "",
            "union": "",
        },
    )
    assert response.status_code == 303
    detail = client.get(response.headers["Location"])
    assert "3</strong> would get it now" in detail.text
    assert "&lt;b&gt;bold?&lt;/b&gt;" in detail.text and "<b>bold?</b>" not in detail.text
    token = csrf_token(detail.text)
    path = response.headers["Location"]
    assert client.post(f"{path}/test", data={"csrf_token": token}).status_code == 303
    (test_copy,) = mailbox.messages()[before:]
    assert test_copy["To"] == "admin@example.org" and test_copy["Subject"] == "[Test] We reached 1,000"
    assert client.post(f"{path}/send", data={"csrf_token": token}).status_code == 303
    assert client.post(f"{path}/send", data={"csrf_token": token}).status_code == 303
    mailbox.deliver()
    progress = client.get(f"{path}/progress.json").get_json()
    assert progress == {
        "status": "sending",
        "recipients": 3,
        "sent": 3,
        "failed": 0,
        "not_sent": 0,
        "waiting": 0,
        "unsubscribed": 0,
        "percent": 100,
    }
    assert 'value="100"' in client.get(path).text


def test_union_organisers_cannot_send_updates(app, client, make_account, sign_in):
    sign_in(make_account("rep@neu.example", role="organiser", org="neu"))
    assert client.get("/organiser/updates").status_code == 403
    update_id = new_update()
    assert client.post(f"/organiser/updates/{update_id}/send").status_code in (400, 403)
    assert db.session.get(CampaignUpdate, update_id).queued_at is None


def test_withdrawn_and_anonymised_signatures_are_never_in_the_audience(app, keys, signers, mailbox):
    from datetime import date, timedelta

    from app.services.retention import run_retention
    from app.services.signing import withdraw_signature

    mailbox.deliver()  # the signers' own confirmation emails
    ada_id = signers["ada"].id
    withdraw_signature(
        db.session, keys, tokens.make_token(keys.token_key, tokens.MANAGE, ada_id, signers["ada"].token_nonce)
    )
    assert updates.audience_size(db.session, Audience()) == 2  # bob, cy
    update_id = new_update()
    assert updates.queue_update(db.session, ADMIN, update_id) == 2
    assert ada_id not in {r.signature_id for r in update_rows(update_id)}

    # After the campaign, retention anonymises everyone: nobody is left to write to, and what was
    # queued before goes with their addresses.
    run_retention(db.session, ADMIN, unconfirmed_days=30, campaign_end=date.today() - timedelta(days=1))
    assert updates.audience_size(db.session, Audience()) == 0
    assert update_rows(update_id) == []
    assert mailbox.deliver().sent == 0
