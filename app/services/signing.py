"""Signing, confirming, withdrawing and changing consents: one transaction per use case."""

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

from app.models import BlockedDomain, OutboxMessage, Signature, SignatureStatus, utcnow
from app.services import tokens
from app.services.counts import adjust_count
from app.services.keys import Keys
from app.services.normalise import canonical_email, normalise_email

log = logging.getLogger(__name__)

CONFIRM_EMAIL = "confirm"
ALREADY_SIGNED_EMAIL = "already_signed"
# A ?source= code on sign-up links and embeds, saying where a signer came from.
SOURCE_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class SignUp:
    """What a signer submitted, already validated by the form."""

    name: str
    email: str
    sector_id: int
    wording_version: str
    organisation_id: int | None = None
    postcode_outward: str | None = None
    source: str | None = None
    consent_updates: bool = False
    consent_share_union: bool = False


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
    session: Session, keys: Keys, signup: SignUp, max_emails: int, hold_reason: HoldReason | None = None
) -> SignOutcome:
    """Record a signature and queue its confirmation email, in one transaction.

    With a hold_reason (or an address at a blocked domain) the signature is stored as HELD:
    no email, not counted, waiting for an organiser's review. A second submission for the
    same mailbox changes nothing but queues one reminder (its confirmation again, or "you
    have already signed"), up to max_emails in all; an unsuspicious one releases a held
    signature into the normal confirmation flow. Concurrent submissions of one mailbox meet
    at the unique email_key constraint.
    """
    canonical = canonical_email(signup.email)
    if hold_reason is None and is_blocked_domain(session, canonical.rpartition("@")[2]):
        hold_reason = HoldReason.BLOCKED_DOMAIN
    held = hold_reason is not None
    email_key = keys.cipher.blind_index(canonical)
    try:
        signature = Signature(
            email_key=email_key,
            email_domain_key=keys.cipher.domain_index(canonical.rpartition("@")[2]),
            email_encrypted=keys.cipher.encrypt(normalise_email(signup.email)),
            name_encrypted=keys.cipher.encrypt(signup.name),
            sector_id=signup.sector_id,
            organisation_id=signup.organisation_id,
            postcode_outward=signup.postcode_outward,
            source=signup.source,
            consent_updates=signup.consent_updates,
            consent_share_union=signup.consent_share_union and signup.organisation_id is not None,
            wording_version=signup.wording_version,
            token_nonce=secrets.token_bytes(16),
            status=SignatureStatus.HELD if held else SignatureStatus.PENDING,
            held_reason=hold_reason,
            emails_queued=0 if held else 1,
        )
        session.add(signature)
        session.flush()
        if not held:
            session.add(OutboxMessage(signature_id=signature.id, kind=CONFIRM_EMAIL))
        session.commit()
        log.info("signature created id=%s sector=%s held=%s", signature.id, signup.sector_id, hold_reason)
        return SignOutcome.HELD if held else SignOutcome.CREATED
    except IntegrityError as error:
        session.rollback()
        duplicate = error
    existing = session.execute(
        select(Signature.id, Signature.status).where(Signature.email_key == email_key)
    ).one_or_none()
    if existing is None:  # not a duplicate after all: some other constraint failed
        raise duplicate
    if held or existing.status == SignatureStatus.INVALID:
        log.info("signature id=%s resubmitted; ignored (%s)", existing.id, hold_reason or "invalid")
        return SignOutcome.IGNORED
    return _remind_existing(session, existing, max_emails)


def is_blocked_domain(session: Session, domain: str) -> bool:
    """True if the domain, or a domain it is part of, is on the block list."""
    parts = domain.split(".")
    candidates = [".".join(parts[i:]) for i in range(len(parts) - 1)]
    return (
        session.execute(select(BlockedDomain.id).where(BlockedDomain.domain.in_(candidates)).limit(1)).first()
        is not None
    )


def _remind_existing(session: Session, existing, max_emails: int) -> SignOutcome:
    values = {"emails_queued": Signature.emails_queued + 1}
    if existing.status == SignatureStatus.HELD:  # a clean submission takes it out of review
        values |= {"status": SignatureStatus.PENDING, "held_reason": None}
    claimed = session.execute(
        update(Signature)
        .where(
            Signature.id == existing.id,
            Signature.status == existing.status,
            Signature.emails_queued < max_emails,
        )
        .values(**values)
    ).rowcount
    if not claimed:
        session.rollback()
        log.info("signature id=%s resubmitted; email limit reached", existing.id)
        return SignOutcome.EMAIL_LIMIT_REACHED
    confirmed = existing.status == SignatureStatus.CONFIRMED
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


def confirmable_signature(session: Session, keys: Keys, token: str, max_age_seconds: int) -> Signature:
    """The signature a confirmation link is for, unless moderators have held or invalidated it."""
    signature = signature_for_token(session, keys, tokens.CONFIRM, token, max_age_seconds)
    if signature.status in (SignatureStatus.HELD, SignatureStatus.INVALID):
        raise tokens.BadToken("not confirmable")
    return signature


def confirm_signature(
    session: Session, keys: Keys, token: str, max_age_seconds: int, now: datetime | None = None
) -> Signature:
    """Confirm the signature (idempotent) and count it, in one transaction.

    Raises tokens.BadToken for a malformed, forged, revoked or expired link.
    """
    signature = confirmable_signature(session, keys, token, max_age_seconds)
    now = now or utcnow()
    changed = session.execute(
        update(Signature)
        .where(Signature.id == signature.id, Signature.status == SignatureStatus.PENDING)
        .values(status=SignatureStatus.CONFIRMED, confirmed_at=now)
    ).rowcount
    if changed:
        adjust_count(session, signature.sector_id, signature.organisation_id, +1, now)
        log.info("signature confirmed id=%s", signature.id)
    session.commit()
    session.refresh(signature)
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
        adjust_count(session, signature.sector_id, signature.organisation_id, -1, utcnow())
    session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.signature_id == signature.id))
    session.delete(signature)


def update_consents(session: Session, keys: Keys, token: str, *, updates: bool, share_union: bool) -> Signature:
    """Record the signer's new consent choices; raises BadToken."""
    signature = signature_for_token(session, keys, tokens.MANAGE, token)
    signature.consent_updates = updates
    signature.consent_share_union = share_union and signature.organisation_id is not None
    signature.consents_updated_at = utcnow()
    session.commit()
    log.info("consents updated id=%s", signature.id)
    return signature


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
        "also_held": "A keyed hash of your email address, used only to stop duplicate signatures.",
    }
