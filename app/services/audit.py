"""The audit log: who touched personal data or accounts, and when. Append-only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import AuditEvent, Organiser


@dataclass(frozen=True)
class Actor:
    """Who is acting: an organiser account, or the command line."""

    organiser_id: int | None
    label: str

    @classmethod
    def of(cls, organiser: Organiser) -> Actor:
        return cls(organiser.id, organiser.email)


CLI = Actor(None, "cli")
ANONYMOUS = Actor(None, "anonymous")


def record(session: Session, actor: Actor, action: str, **details) -> AuditEvent:
    """Add an event to the caller's transaction (the caller commits). Never pass a signer's name or email."""
    event = AuditEvent(
        actor_id=actor.organiser_id,
        actor=actor.label,
        action=action,
        details=json.dumps(details, default=str, sort_keys=True),
    )
    session.add(event)
    return event


def events(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[AuditEvent]:
    """Newest first, filtered."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    return list(session.execute(query).scalars())
