"""Organiser accounts: creation, passwords and password resets, off-boarding.

Signing in and sessions are in organiser_sessions.py; two-factor codes in two_factor.py.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, literal, select
from sqlalchemy.orm import Session, selectinload
from werkzeug.security import generate_password_hash

from app.models import AuditEvent, Organisation, Organiser, OrganiserRole, OutboxMessage, utcnow
from app.services import audit, tokens
from app.services.keys import Keys
from app.services.organiser_sessions import end_all_sessions

log = logging.getLogger(__name__)

PASSWORD_PURPOSE = "organiser-password"
PASSWORD_RESET_EMAIL = "organiser_password_reset"
PASSWORD_RESET_QUEUED = "account.password_reset_requested"


class AccountError(ValueError):
    """A request about an account that cannot be done; the message is safe to show."""


def _new_nonce() -> str:
    return secrets.token_hex(16)


# Accounts -------------------------------------------------------------------------------------


def create_organiser(
    session: Session, email: str, role: str, org_slug: str | None = None, actor: audit.Actor = audit.CLI
) -> Organiser:
    """Create an account with no password yet (see password_link); records an audit event."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise AccountError("Give a valid email address.")
    try:
        role_value = OrganiserRole(role)
    except ValueError:
        raise AccountError("Role must be admin or organiser.") from None
    organisation = None
    if org_slug:
        organisation = session.execute(select(Organisation).where(Organisation.slug == org_slug)).scalar()
        if organisation is None:
            raise AccountError(f"No union with slug {org_slug!r}.")
    if role_value is OrganiserRole.ORGANISER and organisation is None:
        raise AccountError("An organiser account needs --org (the union it works for).")
    if session.execute(select(Organiser.id).where(Organiser.email == email)).first():
        raise AccountError("There is already an account with that email.")
    organiser = Organiser(email=email, role=role_value, organisation=organisation, session_nonce=_new_nonce())
    session.add(organiser)
    session.flush()
    audit.record(session, actor, "account.create", account_id=organiser.id, role=role_value.value, org=org_slug)
    session.commit()
    return organiser


def list_organisers(session: Session) -> list[Organiser]:
    """Every account, oldest first, with its union loaded."""
    query = select(Organiser).options(selectinload(Organiser.organisation)).order_by(Organiser.id)
    return list(session.execute(query).scalars())


def find_organiser(session: Session, email_or_id: str) -> Organiser:
    """The account with this email address or id. Raises AccountError."""
    ref = email_or_id.strip().lower()
    where = Organiser.id == int(ref) if ref.isdigit() else Organiser.email == ref
    organiser = session.execute(select(Organiser).where(where)).scalar()
    if organiser is None:
        raise AccountError(f"No organiser account {email_or_id!r}.")
    return organiser


def disable_organiser(session: Session, actor: audit.Actor, organiser_id: int) -> Organiser:
    """Disable an account: its sessions end and its password links die at once; audited; commits.

    Raises AccountError for an unknown or already disabled account, or an actor disabling themselves.
    """
    organiser = get_account(session, organiser_id)
    if actor.organiser_id == organiser.id:
        raise AccountError(_l("You cannot disable your own account."))
    if organiser.disabled_at is not None:
        raise AccountError(_l("That account is already disabled."))
    now = utcnow()
    organiser.disabled_at = now
    organiser.session_nonce = _new_nonce()
    ended = end_all_sessions(session, organiser.id, now)
    audit.record(session, actor, "account.disable", account_id=organiser.id, sessions_ended=ended)
    session.commit()
    return organiser


def enable_organiser(session: Session, actor: audit.Actor, organiser_id: int) -> Organiser:
    """Let a disabled account sign in again (with its password and two-factor); audited; commits.

    Raises AccountError for an unknown account or one that is not disabled.
    """
    organiser = get_account(session, organiser_id)
    if organiser.disabled_at is None:
        raise AccountError(_l("That account is not disabled."))
    organiser.disabled_at = None
    audit.record(session, actor, "account.enable", account_id=organiser.id)
    session.commit()
    return organiser


def get_account(session: Session, organiser_id: int) -> Organiser:
    """The account with this id. Raises AccountError."""
    organiser = session.get(Organiser, organiser_id)
    if organiser is None:
        raise AccountError(_l("No such account."))
    return organiser


# Passwords ------------------------------------------------------------------------------------


def password_link_token(keys: Keys, organiser: Organiser) -> str:
    """A one-time token to set a password; it dies when the password is set (nonce rotates)."""
    return tokens.make_token(keys.token_key, PASSWORD_PURPOSE, organiser.id, organiser.session_nonce.encode())


def organiser_for_password_token(session: Session, keys: Keys, token: str, max_age_seconds: int) -> Organiser:
    parsed = tokens.parse_token(token)
    organiser = session.get(Organiser, parsed.signature_id)
    if organiser is None or organiser.disabled_at is not None:
        raise tokens.BadToken("no such account")
    tokens.verify_token(keys.token_key, PASSWORD_PURPOSE, parsed, organiser.session_nonce.encode(), max_age_seconds)
    return organiser


def set_password(
    session: Session, keys: Keys, token: str, password: str, *, max_age_seconds: int, min_length: int
) -> Organiser:
    """Set the password from a link; ends every session of the account and voids the link.

    Raises BadToken, AccountError.
    """
    organiser = organiser_for_password_token(session, keys, token, max_age_seconds)
    if len(password) < min_length:
        raise AccountError(_l("Use at least %(min)s characters.", min=min_length))
    if len(password) > 200:
        raise AccountError(_l("Use %(max)s characters or fewer.", max=200))
    organiser.password_hash = generate_password_hash(password)
    organiser.session_nonce = _new_nonce()
    ended = end_all_sessions(session, organiser.id, utcnow())
    audit.record(
        session, audit.Actor.of(organiser), "account.password_set", account_id=organiser.id, sessions_ended=ended
    )
    session.commit()
    return organiser


def request_password_reset(session: Session, email: str, *, max_per_hour: int, now: datetime | None = None) -> None:
    """Queue a reset email if the account exists, is enabled and has had fewer than max_per_hour.

    Callers say the same thing whatever happened. Every branch runs the same statements (a
    look-up, a count, a conditional insert into the outbox, an audit row, a commit), so the
    time taken does not tell them apart either (bench/bench_login_timing.py measures it).
    """
    now = now or utcnow()
    organiser = session.execute(select(Organiser).where(Organiser.email == email.strip().lower())).scalar()
    account_id = organiser.id if organiser else 0  # 0 matches nothing: the same queries either way
    queued = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == PASSWORD_RESET_QUEUED,
            AuditEvent.actor_id == account_id,
            AuditEvent.at >= now - timedelta(hours=1),
        )
    )
    refused = "unknown account" if organiser is None else "disabled" if organiser.disabled_at else None
    if refused is None and queued >= max_per_hour:
        refused = "hourly limit"
    # INSERT ... SELECT ... WHERE: one statement that adds the email only when it should.
    session.execute(
        insert(OutboxMessage).from_select(
            ["organiser_id", "kind"],
            select(literal(account_id), literal(PASSWORD_RESET_EMAIL)).where(literal(refused is None)),
        )
    )
    if refused is None:
        audit.record(session, audit.Actor.of(organiser), PASSWORD_RESET_QUEUED, account_id=account_id)
    else:
        details = {"account_id": organiser.id} if organiser else {}
        audit.record(session, audit.ANONYMOUS, "account.password_reset_refused", reason=refused, **details)
    session.commit()
