"""Flask commands: they go through the same audited services as the web pages."""

import json

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent


def test_signing_pause_and_resume_from_the_cli_are_audited(runner):
    assert "paused" in runner.invoke(args=["signing", "pause"]).output
    runner.invoke(args=["signing", "resume"])
    rows = db.session.execute(
        select(AuditEvent.actor, AuditEvent.details)
        .where(AuditEvent.action == "settings.signing_paused")
        .order_by(AuditEvent.id)
    ).all()
    audited = [(who, json.loads(details)) for who, details in rows]
    assert audited == [("cli", {"paused": True}), ("cli", {"paused": False})]
