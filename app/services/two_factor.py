"""Two-factor sign-in for organisers (TOTP): set-up, codes that each work once, recovery of a lost device."""

from __future__ import annotations

import hmac
import time

import pyotp
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from app.models import Organiser, utcnow
from app.services import audit
from app.services.keys import Keys
from app.services.organiser_sessions import end_all_sessions, record_code_failure, start_session
from app.services.organisers import AccountError, get_account

TOTP_ISSUER = "Care Don't Share"


class CodeRejected(Exception):
    """A two-factor code that is wrong, outside the allowed clock drift, or already used."""


def begin_totp_setup(session: Session, keys: Keys, organiser: Organiser) -> str:
    """A new secret for the organiser's authenticator app (not active until confirmed); commits.

    Raises AccountError if two-factor is already on (reset it first).
    """
    if organiser.totp_enabled:
        raise AccountError(_l("Two-factor sign-in is already on for this account."))
    secret = pyotp.random_base32()
    organiser.totp_secret_encrypted = keys.cipher.encrypt(secret)
    organiser.totp_last_step = None
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
        raise AccountError(_l("Two-factor setup has not begun for this account."))
    return pyotp.TOTP(secret).provisioning_uri(name=organiser.email, issuer_name=TOTP_ISSUER)


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step (unix time // 30) whose code this is, allowing one step of clock drift
    either way; None if it matches none of the three."""
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    found = None
    for step in (current - 1, current, current + 1):  # all three, in constant time each
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def _accept_code(session: Session, keys: Keys, organiser: Organiser, code: str, now: float | None) -> bool:
    """Check a code and, in the caller's transaction, record its step so it never works again.

    The conditional UPDATE makes two requests racing with the same code accept it only once.
    """
    secret = totp_secret(keys, organiser)
    code = "".join(code.split())
    if secret is None or not (code.isdigit() and len(code) == 6):
        return False
    step = matching_step(secret, code, time.time() if now is None else now)
    if step is None:
        return False
    claimed = session.execute(
        update(Organiser)
        .where(
            Organiser.id == organiser.id,
            or_(Organiser.totp_last_step.is_(None), Organiser.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return claimed.rowcount == 1


def confirm_totp(session: Session, keys: Keys, organiser: Organiser, code: str, *, now: float | None = None) -> None:
    """Switch two-factor on once the organiser proves their app shows the right code (which is
    then used up); audited; commits. Raises AccountError."""
    if organiser.totp_enabled or not _accept_code(session, keys, organiser, code, now):
        raise AccountError(_l("That code did not match. Check your authenticator app's clock and try again."))
    organiser.totp_enabled = True
    audit.record(session, audit.Actor.of(organiser), "account.totp_enabled", account_id=organiser.id)
    session.commit()


def reset_two_factor(session: Session, actor: audit.Actor, organiser_id: int) -> Organiser:
    """For a lost device: two-factor off and its secret gone, so the next sign-in sets it up
    again; the account's sessions end; audited; commits. Raises AccountError."""
    organiser = get_account(session, organiser_id)
    organiser.totp_enabled = False
    organiser.totp_secret_encrypted = None
    organiser.totp_last_step = None
    ended = end_all_sessions(session, organiser.id, utcnow())
    audit.record(session, actor, "account.totp_reset", account_id=organiser.id, sessions_ended=ended)
    session.commit()
    return organiser


def sign_in_with_code(
    session: Session, keys: Keys, organiser: Organiser, code: str, *, now: float | None = None
) -> str:
    """Finish a sign-in with a two-factor code (each code works once), then start_session.

    Raises CodeRejected, after auditing it.
    """
    if not _accept_code(session, keys, organiser, code, now):
        record_code_failure(session, organiser, "code")
        raise CodeRejected
    return start_session(session, organiser)
