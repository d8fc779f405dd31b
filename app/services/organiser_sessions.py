"""Signing organisers in and out: passwords checked alike whatever the account's state, sessions held on the server."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import Organiser, OrganiserSession, utcnow
from app.services import audit

log = logging.getLogger(__name__)

# A session's last_seen_at is written at most this often, not on every request.
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


class LoginFailed(Exception):
    """Wrong email, wrong password, no password yet or disabled: deliberately indistinguishable."""


@cache
def _dummy_hash() -> str:
    """Checked when there is no real hash to check, so every sign-in takes as long (made on first use)."""
    return generate_password_hash("not-a-real-password")


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def authenticate(session: Session, email: str, password: str) -> Organiser:
    """Check an email address and password; the account may still need a two-factor code.

    Raises LoginFailed with no detail for every kind of failure, after auditing it. Whatever
    the account's state (unknown, no password yet, disabled, wrong or right password) this
    runs one password hash check and, on failure, the same database work.
    """
    email = email.strip().lower()
    organiser = session.execute(select(Organiser).where(Organiser.email == email)).scalar()
    has_hash = organiser is not None and organiser.password_hash is not None
    password_ok = check_password_hash(organiser.password_hash if has_hash else _dummy_hash(), password)
    if organiser is not None and organiser.is_active and password_ok:
        return organiser
    if organiser is None:
        audit.record(session, audit.ANONYMOUS, "login.failed", reason="unknown account")
    else:
        reason = "no password" if not has_hash else "disabled" if organiser.disabled_at else "wrong password"
        audit.record(session, audit.Actor.of(organiser), "login.failed", account_id=organiser.id, reason=reason)
    session.commit()
    raise LoginFailed


def start_session(session: Session, organiser: Organiser, *, now: datetime | None = None) -> str:
    """Sign the organiser in: a new server-side session and a login audit event; commits.

    Returns the random token for the cookie; only its SHA-256 is stored.
    """
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        OrganiserSession(organiser_id=organiser.id, token_hash=_token_hash(token), created_at=now, last_seen_at=now)
    )
    organiser.last_login_at = now
    audit.record(
        session, audit.Actor.of(organiser), "login", account_id=organiser.id, two_factor=organiser.totp_enabled
    )
    session.commit()
    return token


def organiser_for_session(
    session: Session, token: str, *, idle: timedelta, lifetime: timedelta, now: datetime | None = None
) -> Organiser | None:
    """The account a session token belongs to, or None if the session has ended.

    A session ends when signed out, idle for `idle`, `lifetime` after sign-in, or when the
    account is disabled or gets a new password. Ending one for time, and noting activity (at
    most once a minute), commit.
    """
    now = now or utcnow()
    found = session.execute(
        select(OrganiserSession, Organiser)
        .join(OrganiserSession.organiser)
        .where(OrganiserSession.token_hash == _token_hash(token), OrganiserSession.ended_at.is_(None))
    ).first()
    if found is None:
        return None
    row, organiser = found
    if now - row.created_at >= lifetime or now - row.last_seen_at >= idle or not organiser.is_active:
        row.ended_at = now
        session.commit()
        return None
    if now - row.last_seen_at >= SESSION_TOUCH_INTERVAL:
        row.last_seen_at = now
        session.commit()
    return organiser


def end_session(session: Session, organiser: Organiser, token: str) -> None:
    """Sign out: the session ends on the server, so a copy of the cookie is worthless; audited; commits."""
    session.execute(
        update(OrganiserSession)
        .where(OrganiserSession.token_hash == _token_hash(token), OrganiserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    audit.record(session, audit.Actor.of(organiser), "logout", account_id=organiser.id)
    session.commit()


def end_all_sessions(session: Session, organiser_id: int, now: datetime) -> int:
    """End every open session of the account in the caller's transaction; returns how many."""
    result = session.execute(
        update(OrganiserSession)
        .where(OrganiserSession.organiser_id == organiser_id, OrganiserSession.ended_at.is_(None))
        .values(ended_at=now)
    )
    return result.rowcount


def record_throttled_login(session: Session) -> None:
    """Audit a sign-in refused by the rate limit (no account named: the email may not exist); commits."""
    audit.record(session, audit.ANONYMOUS, "login.failed", reason="throttled")
    session.commit()


def record_code_failure(session: Session, organiser: Organiser, reason: str = "code") -> None:
    """Audit a wrong or throttled two-factor code at sign-in; commits."""
    audit.record(session, audit.Actor.of(organiser), "login.failed", account_id=organiser.id, reason=reason)
    session.commit()


def record_login_ceiling(session: Session, email: str) -> None:
    """Audit and log that an email address has had the most failed sign-ins allowed from all
    addresses together (sign-in with it waits until older failures age out); commits."""
    account_id = session.execute(select(Organiser.id).where(Organiser.email == email.strip().lower())).scalar()
    audit.record(session, audit.ANONYMOUS, "login.ceiling_reached", account_id=account_id)
    session.commit()
    log.warning(
        "failed sign-ins for organiser account %s reached the ceiling; its sign-in is paused",
        account_id if account_id is not None else "(none: unknown address)",
    )
