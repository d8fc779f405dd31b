"""Signing up (and signing again), link tokens and withdrawal: one transaction per use case.

Confirming is in confirmation.py and the signer's choices in consents.py.
"""

from __future__ import annotations

import enum
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import OutboxMessage, Signature, SignatureStatus, utcnow
from app.services import tokens
from app.services.counts import uncount
from app.services.keys import Keys
from app.services.normalise import clean_name, email_forms
from app.services.reference import is_blocked, read_blocked_domains

log = logging.getLogger(__name__)

CONFIRM_EMAIL = "confirm"
ALREADY_SIGNED_EMAIL = "already_signed"
# Built once: a statement whose values come as parameters is compiled once and its cache key
# is memoised, where .values(...) on every call cost a tenth of a sign-up (bench/README.md).
INSERT_SIGNATURE = Signature.__table__.insert().returning(Signature.__table__.c.id)
INSERT_OUTBOX = OutboxMessage.__table__.insert()
# A ?source= code on sign-up links and embeds, saying where a signer came from.
SOURCE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class SignUp:
    """What a form submitted. It carries no consents: only the mailbox holder gives them, on confirming."""

    name: str
    email: str
    sector_id: int
    wording_version: str
    organisation_id: int | None = None
    postcode_outward: str | None = None
    source: str | None = None
    # The language of the form (a code from LANGUAGES): the signer's emails are written in it.
    language: str = "en"


class SignOutcome(enum.Enum):
    """What happened; never shown to the signer, who always sees "check your email"."""

    CREATED = "created"
    CONFIRMATION_RESENT = "confirmation_resent"
    ALREADY_SIGNED_NOTIFIED = "already_signed_notified"
    EMAIL_LIMIT_REACHED = "email_limit_reached"
    HELD = "held"
    IGNORED = "ignored"


class HoldReason(enum.StrEnum):
    """Why a sign-up was held for review instead of being emailed."""

    RATE_LIMITED = "rate_limited"
    BLOCKED_DOMAIN = "blocked_domain"
    HONEYPOT = "honeypot"


def sign_pledge(
    session: Session,
    keys: Keys,
    signup: SignUp,
    max_emails: int,
    hold_reason: HoldReason | None = None,
    blocked_domains: frozenset[str] | None = None,
) -> SignOutcome:
    """Record a signature and queue its confirmation email, in one transaction.

    Both consents start off: only the mailbox holder gives them, on the confirmation page.
    With a hold_reason (or an address at a blocked domain) the signature is stored as HELD:
    no email, not counted, waiting for an organiser's review. A later unsuspicious submission
    for the same mailbox replaces an unconfirmed signature's details (and releases a held
    one), since whoever typed the first may not hold the mailbox; it queues the confirmation
    again, up to max_emails in all. A confirmed signature is never changed: it is sent "you
    have already signed", within the same cap. Concurrent submissions of one mailbox meet at
    the unique email_key constraint. Raises InvalidInput for a name or email we cannot take.

    blocked_domains is the block list as the caller last read it (reference.py); without it the
    database is asked. A new signature is written with two INSERTs (no ORM unit of work, no
    read-back): the sign-up surge path, see bench/README.md.
    """
    name = clean_name(signup.name)
    normalised, canonical = email_forms(signup.email)
    domain = canonical.rpartition("@")[2]
    if blocked_domains is None:
        blocked_domains = read_blocked_domains(session)
    if hold_reason is None and is_blocked(domain, blocked_domains):
        hold_reason = HoldReason.BLOCKED_DOMAIN
    held = hold_reason is not None
    email_key = keys.cipher.blind_index(canonical)
    details = {
        "email_encrypted": keys.cipher.encrypt(normalised),
        "name_encrypted": keys.cipher.encrypt(name),
        "sector_id": signup.sector_id,
        "organisation_id": signup.organisation_id,
        "postcode_outward": signup.postcode_outward,
        "source": signup.source,
        "wording_version": signup.wording_version,
        "language": signup.language,
        "consent_updates": False,
        "consent_share_union": False,
    }
    try:
        connection = session.connection()
        signature_id = connection.execute(
            INSERT_SIGNATURE,
            {
                "email_key": email_key,
                "email_domain_key": keys.cipher.domain_index(domain),
                **details,
                "token_nonce": secrets.token_bytes(16),
                "status": SignatureStatus.HELD if held else SignatureStatus.PENDING,
                "held_reason": hold_reason,
                "emails_queued": 0 if held else 1,
            },
        ).scalar_one()
        if not held:
            connection.execute(INSERT_OUTBOX, {"signature_id": signature_id, "kind": CONFIRM_EMAIL})
        session.commit()
        log.info("signature created id=%s sector=%s held=%s", signature_id, signup.sector_id, hold_reason)
        return SignOutcome.HELD if held else SignOutcome.CREATED
    except IntegrityError as error:
        session.rollback()
        duplicate = error
    for _ in range(3):  # the row may be confirmed or released between our read and our write
        existing = session.execute(
            select(Signature.id, Signature.status).where(Signature.email_key == email_key)
        ).one_or_none()
        if existing is None:  # not a duplicate after all: some other constraint failed
            raise duplicate
        if held or existing.status == SignatureStatus.INVALID:
            log.info("signature id=%s resubmitted; ignored (%s)", existing.id, hold_reason or "invalid")
            return SignOutcome.IGNORED
        outcome = _resubmitted(session, existing, details, max_emails)
        if outcome is not None:
            return outcome
    return SignOutcome.IGNORED


def _resubmitted(session: Session, existing, details: dict, max_emails: int) -> SignOutcome | None:
    """A clean submission for a mailbox that has a signature; None if its status changed meanwhile."""
    confirmed = existing.status == SignatureStatus.CONFIRMED
    if not confirmed:  # the latest details stand until the mailbox holder confirms; a held one is released
        replaced = session.execute(
            update(Signature)
            .where(Signature.id == existing.id, Signature.status == existing.status)
            .values(**details, status=SignatureStatus.PENDING, held_reason=None)
        ).rowcount
        if not replaced:
            session.rollback()
            return None
    claimed = session.execute(
        update(Signature)
        .where(
            Signature.id == existing.id,
            Signature.status == (SignatureStatus.CONFIRMED if confirmed else SignatureStatus.PENDING),
            Signature.emails_queued < max_emails,
        )
        .values(emails_queued=Signature.emails_queued + 1)
    ).rowcount
    if not claimed:
        session.commit()  # an unconfirmed signature's details are replaced even without an email
        log.info("signature id=%s resubmitted; email limit reached", existing.id)
        return SignOutcome.EMAIL_LIMIT_REACHED
    kind = ALREADY_SIGNED_EMAIL if confirmed else CONFIRM_EMAIL
    session.add(OutboxMessage(signature_id=existing.id, kind=kind))
    session.commit()
    log.info("signature id=%s resubmitted; queued %s", existing.id, kind)
    return SignOutcome.ALREADY_SIGNED_NOTIFIED if confirmed else SignOutcome.CONFIRMATION_RESENT


def signature_for_token(
    session: Session, keys: Keys, purpose: str, token: str, max_age_seconds: int | None = None
) -> Signature:
    """The signature a link token belongs to; raises tokens.BadToken if it is not valid."""
    parsed = tokens.parse_token(token)
    signature = session.get(Signature, parsed.signature_id)
    if signature is None:
        raise tokens.BadToken("no such signature")
    tokens.verify_token(keys.token_key, purpose, parsed, signature.token_nonce, max_age_seconds)
    return signature


def withdraw_signature(session: Session, keys: Keys, token: str) -> None:
    """Erase the signature (the row and its queued mail) and uncount it; raises BadToken."""
    signature = signature_for_token(session, keys, tokens.MANAGE, token)
    session.refresh(signature, with_for_update=True)  # a confirmation racing us must not be lost
    erase_signature(session, signature)
    session.commit()
    log.info("signature withdrawn and erased id=%s", signature.id)


def erase_signature(session: Session, signature: Signature) -> None:
    """Delete the signature and its queued mail, uncounting it if it counted; the caller commits.

    The caller should hold the row lock, so a confirmation racing the erasure cannot be lost.
    """
    if signature.status == SignatureStatus.CONFIRMED:
        uncount(session, signature, utcnow())
    session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.signature_id == signature.id))
    session.delete(signature)


def personal_data(keys: Keys, signature: Signature) -> dict:
    """Everything we hold about a signer, for them to download (their right of access)."""

    def when(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "name": keys.cipher.decrypt(signature.name_encrypted) if signature.name_encrypted else None,
        "email": keys.cipher.decrypt(signature.email_encrypted) if signature.email_encrypted else None,
        "sector": signature.sector.slug,
        "union": signature.organisation.slug if signature.organisation else None,
        "postcode_area": signature.postcode_outward,
        "source": signature.source,
        "status": signature.status.value,
        "consents": {
            "campaign_updates": signature.consent_updates,
            "share_with_union": signature.consent_share_union,
            "last_changed": when(signature.consents_updated_at),
        },
        "pledge_and_consent_wording_version": signature.wording_version,
        "signed_at": when(signature.created_at),
        "confirmed_at": when(signature.confirmed_at),
        "work_email_verification": {
            "verified": signature.verified_at is not None,
            "sector": signature.sector.slug if signature.verified_at else None,
            "verified_at": when(signature.verified_at),
        },
        "also_held": "A keyed hash of your email address, used only to stop duplicate signatures."
        + (
            " A keyed hash of the work email address you verified with, so that it verifies one signature"
            " only; we do not hold that address or its domain."
            if signature.work_mailbox_key
            else ""
        ),
    }
