"""Organiser accounts: creation, passwords, sign-in with lockout, two-factor codes."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from functools import cache

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from app.models import Organisation, Organiser, OrganiserRole, OutboxMessage, utcnow
from app.services import audit, tokens
from app.services.keys import Keys

log = logging.getLogger(__name__)

PASSWORD_PURPOSE = "organiser-password"
PASSWORD_RESET_EMAIL = "organiser_password_reset"
TOTP_ISSUER = "Care Don't Share"


@cache
def _dummy_hash() -> str:
    """Checked when the account does not exist, so both paths take as long (made on first use)."""
    return generate_password_hash("not-a-real-password")


class AccountError(ValueError):
    """A request about an account that cannot be done; the message is safe to show."""


class LoginFailed(Exception):
    """Wrong email, wrong password, locked or disabled: deliberately indistinguishable."""


def _new_nonce() -> str:
    return secrets.token_hex(16)


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
    """Set the password from a link; ends other sessions and voids the link. Raises BadToken, AccountError."""
    organiser = organiser_for_password_token(session, keys, token, max_age_seconds)
    if len(password) < min_length:
        raise AccountError(f"Use at least {min_length} characters.")
    if len(password) > 200:
        raise AccountError("Use 200 characters or fewer.")
    organiser.password_hash = generate_password_hash(password)
    organiser.session_nonce = _new_nonce()
    organiser.failed_logins = 0
    organiser.locked_until = None
    audit.record(session, audit.Actor.of(organiser), "account.password_set", account_id=organiser.id)
    session.commit()
    return organiser


def authenticate(
    session: Session, email: str, password: str, *, max_failures: int, lockout: timedelta, now: datetime | None = None
) -> Organiser:
    """Check a password; after max_failures wrong ones the account is locked for a while.

    Raises LoginFailed with no detail for every kind of failure. Records failures.
    """
    now = now or utcnow()
    email = email.strip().lower()
    organiser = session.execute(select(Organiser).where(Organiser.email == email)).scalar()
    if organiser is None or organiser.password_hash is None:
        check_password_hash(_dummy_hash(), password)
        audit.record(session, audit.ANONYMOUS, "login.failed", reason="unknown account")
        session.commit()
        raise LoginFailed
    locked = organiser.locked_until is not None and organiser.locked_until > now
    if locked or organiser.disabled_at is not None or not check_password_hash(organiser.password_hash, password):
        if not locked:
            organiser.failed_logins += 1
            if organiser.failed_logins >= max_failures:
                organiser.locked_until = now + lockout
                organiser.failed_logins = 0
        reason = "locked" if locked else "disabled" if organiser.disabled_at else "wrong password"
        audit.record(session, audit.Actor.of(organiser), "login.failed", account_id=organiser.id, reason=reason)
        session.commit()
        raise LoginFailed
    organiser.failed_logins = 0
    session.commit()
    return organiser


def record_login(session: Session, organiser: Organiser) -> None:
    organiser.last_login_at = utcnow()
    audit.record(session, audit.Actor.of(organiser), "login", account_id=organiser.id)
    session.commit()


def record_throttled_login(session: Session) -> None:
    """Audit a sign-in refused by the rate limit (no account named: the email may not exist); commits."""
    audit.record(session, audit.ANONYMOUS, "login.failed", reason="throttled")
    session.commit()


def record_code_failure(session: Session, organiser: Organiser) -> None:
    """Audit a wrong or throttled two-factor code at sign-in; commits."""
    audit.record(session, audit.Actor.of(organiser), "login.failed", account_id=organiser.id, reason="code")
    session.commit()


def record_logout(session: Session, organiser: Organiser) -> None:
    """Audit an organiser signing out; commits. Ending the web session is the caller's job."""
    audit.record(session, audit.Actor.of(organiser), "logout", account_id=organiser.id)
    session.commit()


def request_password_reset(session: Session, email: str) -> None:
    """Queue a reset email if the account exists; callers say the same thing either way."""
    organiser = session.execute(select(Organiser).where(Organiser.email == email.strip().lower())).scalar()
    if organiser is None or organiser.disabled_at is not None:
        return
    session.add(OutboxMessage(organiser_id=organiser.id, kind=PASSWORD_RESET_EMAIL))
    audit.record(session, audit.Actor.of(organiser), "account.password_reset_requested", account_id=organiser.id)
    session.commit()


def begin_totp_setup(session: Session, keys: Keys, organiser: Organiser) -> str:
    """A new secret for the organiser's authenticator app (not active until confirmed)."""
    secret = pyotp.random_base32()
    organiser.totp_secret_encrypted = keys.cipher.encrypt(secret)
    organiser.totp_enabled = False
    session.commit()
    return secret


def totp_secret(keys: Keys, organiser: Organiser) -> str | None:
    if organiser.totp_secret_encrypted is None:
        return None
    return keys.cipher.decrypt(organiser.totp_secret_encrypted)


def totp_provisioning_uri(keys: Keys, organiser: Organiser) -> str:
    """The otpauth:// URI an authenticator app scans. Raises AccountError if setup has not begun."""
    secret = totp_secret(keys, organiser)
    if secret is None:
        raise AccountError("Two-factor setup has not begun for this account.")
    return pyotp.TOTP(secret).provisioning_uri(name=organiser.email, issuer_name=TOTP_ISSUER)


def verify_totp(keys: Keys, organiser: Organiser, code: str) -> bool:
    secret = totp_secret(keys, organiser)
    code = "".join(code.split())
    return bool(secret) and code.isdigit() and pyotp.TOTP(secret).verify(code, valid_window=1)


def confirm_totp(session: Session, keys: Keys, organiser: Organiser, code: str) -> None:
    """Switch two-factor on once the organiser proves their app shows the right code."""
    if not verify_totp(keys, organiser, code):
        raise AccountError("That code did not match. Check your authenticator app's clock and try again.")
    organiser.totp_enabled = True
    audit.record(session, audit.Actor.of(organiser), "account.totp_enabled", account_id=organiser.id)
    session.commit()


def disable_organiser(session: Session, actor: audit.Actor, organiser_id: int) -> None:
    organiser = session.get(Organiser, organiser_id)
    if organiser is None:
        raise AccountError("No such account.")
    organiser.disabled_at = utcnow()
    organiser.session_nonce = _new_nonce()
    audit.record(session, actor, "account.disable", account_id=organiser_id)
    session.commit()
