"""Verifying that a signer works in their sector with a work email address, keeping only the fact.

A confirmed signer gives a work address whose domain matches their sector's rules
(app/content/work_domains.yaml). The address is queued, encrypted, on the outbox message that
carries its one-time link, and erased when that message is done with (outbox.record_outcomes;
a check constraint refuses it on a sent message). Pressing the button on the link's page
records that the signature is verified, for which sector and when, and a keyed hash of the
canonical work mailbox, unique, so one mailbox verifies one signature. The domain is never
stored, and nothing here logs the address.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.content_loader import name_of
from app.models import OutboxMessage, Signature, SignatureStatus, utcnow
from app.services import tokens
from app.services.counts import adjust_verified
from app.services.keys import Keys
from app.services.mail_delivery import SkipMessage
from app.services.normalise import INVALID_EMAIL, InvalidInput, email_forms

log = logging.getLogger(__name__)

WORK_VERIFICATION_EMAIL = "work_verification"
# The link to the form that asks for a work address (thank-you and manage pages).
OFFER = "work-offer"
OFFER_MAX_AGE_SECONDS = 24 * 3600
# The one-time link sent to the work address.
VERIFY = "work-verify"
LINK_MAX_AGE_SECONDS = 24 * 3600
LINK_SHAPE = re.compile(r"([0-9a-f]{1,12})\.([0-9a-f]{1,12})\.([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})")
DOMAIN_LABELS = re.compile(r"^(\*\.)?([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$")


class BadWorkLink(tokens.BadToken):
    """A work-email link that is malformed, forged, revoked, expired or no longer usable."""


class VerificationRefused(ValueError):
    """This signature cannot be verified now; the message is safe to show the signer."""


class NotAWorkAddress(VerificationRefused):
    """The address's domain is not one of the sector's; the message lists what is accepted."""


class MailboxAlreadyUsed(Exception):
    """That work mailbox has already verified a signature (one mailbox, one signature)."""


class RequestOutcome(enum.Enum):
    """What a request did; never shown: the signer always sees "check your work email"."""

    QUEUED = "queued"
    ALREADY_VERIFIED = "already_verified"
    MAILBOX_USED = "mailbox_used"
    EMAIL_LIMIT_REACHED = "email_limit_reached"
    RATE_LIMITED = "rate_limited"


# Domain rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DomainPattern:
    """ "nhs.net" matches only that domain; "*.nhs.uk" any domain under nhs.uk (not nhs.uk itself)."""

    domain: str
    suffix: bool
    note: str

    @classmethod
    def parse(cls, rule: str, note: str) -> DomainPattern:
        rule = rule.strip().lower()
        if not DOMAIN_LABELS.fullmatch(rule) or not note.strip():
            raise ValueError(f"work domain rule {rule!r} must be 'domain' or '*.domain' (ASCII) with a note")
        return cls(rule.removeprefix("*."), rule.startswith("*."), note.strip())

    def matches(self, domain: str) -> bool:
        return domain.endswith("." + self.domain) if self.suffix else domain == self.domain

    def __str__(self) -> str:
        return f"*.{self.domain}" if self.suffix else self.domain


@dataclass(frozen=True)
class SectorRules:
    accepted: str
    rules: tuple[DomainPattern, ...]
    refused: tuple[DomainPattern, ...] = ()

    def accepts(self, ascii_domain: str) -> bool:
        domain = ascii_domain.lower().rstrip(".")
        return not any(p.matches(domain) for p in self.refused) and any(p.matches(domain) for p in self.rules)

    def refusal(self) -> str:
        """The message for an address whose domain is not accepted (lazy: in the language of the page showing it)."""
        return _l("We cannot verify that address. Use your work email address: %(accepted)s.", accepted=self.accepted)


def not_verified_here(sector) -> str:
    """The message for a signature in a sector with no verification (the public's)."""
    return _l("We do not verify signatures in the %(sector)s sector.", sector=name_of("sectors", sector))


def load_rules(document: dict) -> dict[str, SectorRules]:
    """Per sector slug, from work_domains.yaml's structure; raises ValueError for a malformed rule."""
    rules = {}
    for slug, entry in document.items():
        patterns = tuple(DomainPattern.parse(r["rule"], r.get("note", "")) for r in entry["rules"])
        refused = tuple(DomainPattern.parse(r["rule"], r.get("note", "")) for r in entry.get("refused") or ())
        if not patterns or not entry.get("accepted"):
            raise ValueError(f"work domains for {slug!r} need rules and an 'accepted' description")
        rules[slug] = SectorRules(entry["accepted"].strip(), patterns, refused)
    return rules


def ascii_domain(normalised_email: str) -> str:
    """The address's domain in ASCII (IDNA) form, so look-alikes in other scripts compare as what they are."""
    try:
        return validate_email(normalised_email, check_deliverability=False).ascii_domain.lower()
    except EmailNotValidError:
        raise InvalidInput(INVALID_EMAIL) from None


# Links ---------------------------------------------------------------------------------------


def offer_token(keys: Keys, signature: Signature, now: float | None = None) -> str:
    """The token of the link to the work-address form, for a confirmed signature's own pages."""
    return tokens.make_token(keys.token_key, OFFER, signature.id, signature.token_nonce, now)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _link_mac(key: bytes, signature_id: int, sector_id: int, issued_at: int, nonce: bytes, mailbox_key: bytes) -> bytes:
    message = f"{VERIFY}|{signature_id}|{sector_id}|{issued_at}|".encode() + bytes(nonce) + b"|" + bytes(mailbox_key)
    return hmac.new(key, message, hashlib.sha256).digest()


def link_token(keys: Keys, signature: Signature, mailbox_key: bytes, issued_at: int) -> str:
    """The one-time link's token: the signature, when it was issued, the mailbox's keyed hash, a MAC.

    Bound to the signature's sector and nonce, so withdrawal (or a new nonce) revokes it.
    """
    mac = _link_mac(keys.token_key, signature.id, signature.sector_id, issued_at, signature.token_nonce, mailbox_key)
    return f"{signature.id:x}.{issued_at:x}.{_b64(mailbox_key)}.{_b64(mac)}"


@dataclass(frozen=True)
class _Link:
    signature: Signature
    mailbox_key: bytes


def _open_link(session: Session, keys: Keys, token: str, now: float | None, lock: bool) -> _Link:
    match = LINK_SHAPE.fullmatch(token)
    if not match:
        raise BadWorkLink("malformed")
    id_part, issued_part, key_part, mac_part = match.groups()
    signature_id, issued_at = int(id_part, 16), int(issued_part, 16)
    mailbox_key = base64.urlsafe_b64decode(key_part + "=")
    signature = session.get(Signature, signature_id, with_for_update=True if lock else None)
    if signature is None:
        raise BadWorkLink("no such signature")
    expected = _link_mac(
        keys.token_key, signature.id, signature.sector_id, issued_at, signature.token_nonce, mailbox_key
    )
    if not hmac.compare_digest(expected, base64.urlsafe_b64decode(mac_part + "=")):
        raise BadWorkLink("forged or revoked")
    if (now if now is not None else time.time()) - issued_at > LINK_MAX_AGE_SECONDS:
        raise BadWorkLink("expired")
    if signature.status != SignatureStatus.CONFIRMED:
        raise BadWorkLink("not confirmed")
    return _Link(signature, mailbox_key)


# Use cases -----------------------------------------------------------------------------------


def offered_signature(session: Session, keys: Keys, token: str, now: float | None = None) -> Signature:
    """The confirmed signature a work-address form link is for; raises BadWorkLink."""
    try:
        signature = _signature_for(session, keys, token, now)
    except BadWorkLink:
        raise
    except tokens.BadToken as error:
        raise BadWorkLink(str(error)) from None
    if signature.status != SignatureStatus.CONFIRMED:
        raise BadWorkLink("not confirmed")
    return signature


def _signature_for(session: Session, keys: Keys, token: str, now: float | None) -> Signature:
    parsed = tokens.parse_token(token)
    signature = session.get(Signature, parsed.signature_id)
    if signature is None:
        raise BadWorkLink("no such signature")
    tokens.verify_token(keys.token_key, OFFER, parsed, signature.token_nonce, OFFER_MAX_AGE_SECONDS, now)
    return signature


def request_verification(
    session: Session,
    keys: Keys,
    rules: dict[str, SectorRules],
    token: str,
    work_email: str,
    *,
    max_emails: int,
    rate_limited: bool = False,
) -> RequestOutcome:
    """Queue the one-time link to a work address, if it may go; one transaction.

    Raises BadWorkLink for a bad form link; VerificationRefused if the signature's sector has
    no verification; InvalidInput for an address we cannot read; NotAWorkAddress if its domain
    does not match the sector's rules (nothing stored, nothing sent). Otherwise nothing changes
    and no email goes when the signature is already verified, the mailbox has verified a
    signature, the client is over its rate limit, or the signature has had max_emails of these
    emails. Only the queued message holds the address, encrypted; the domain is never stored.
    """
    signature = offered_signature(session, keys, token)
    sector_rules = rules.get(signature.sector.slug)
    if sector_rules is None:
        raise VerificationRefused(not_verified_here(signature.sector))
    normalised, canonical = email_forms(work_email)
    if not sector_rules.accepts(ascii_domain(normalised)):
        raise NotAWorkAddress(sector_rules.refusal())
    signature_id = signature.id
    if signature.verified_at is not None:
        outcome = RequestOutcome.ALREADY_VERIFIED
    elif session.execute(
        select(exists().where(Signature.work_mailbox_key == keys.cipher.work_mailbox_index(canonical)))
    ).scalar_one():
        outcome = RequestOutcome.MAILBOX_USED
    elif rate_limited:
        outcome = RequestOutcome.RATE_LIMITED
    elif not session.execute(
        update(Signature)
        .where(
            Signature.id == signature_id,
            Signature.status == SignatureStatus.CONFIRMED,
            Signature.verified_at.is_(None),
            Signature.work_emails_queued < max_emails,
        )
        .values(work_emails_queued=Signature.work_emails_queued + 1)
    ).rowcount:
        outcome = RequestOutcome.EMAIL_LIMIT_REACHED
    else:
        session.add(
            OutboxMessage(
                signature_id=signature_id,
                kind=WORK_VERIFICATION_EMAIL,
                recipient_encrypted=keys.cipher.encrypt(normalised),
            )
        )
        outcome = RequestOutcome.QUEUED
    if outcome is RequestOutcome.QUEUED:
        session.commit()
    else:
        session.rollback()
    log.info("work verification requested id=%s outcome=%s", signature_id, outcome.value)
    return outcome


def verification_page(session: Session, keys: Keys, token: str, now: float | None = None) -> Signature:
    """The signature a one-time link is for (its page shows a button); raises BadWorkLink."""
    return _open_link(session, keys, token, now, lock=False).signature


def verify_work_email(session: Session, keys: Keys, token: str, now: datetime | None = None) -> Signature:
    """Record that the signature is verified for its sector, now, with the mailbox's keyed hash.

    One transaction: the signature's fields and its count cell's verified count. Idempotent: a
    signature already verified is returned unchanged. Raises BadWorkLink (malformed, forged,
    revoked, expired, or the signature is no longer confirmed); MailboxAlreadyUsed if that
    mailbox verified another signature (the unique constraint decides a race).
    """
    now = now or utcnow()
    link = _open_link(session, keys, token, now.timestamp(), lock=True)
    signature = link.signature
    if signature.verified_at is not None:
        session.rollback()
        return signature
    signature_id = signature.id
    try:
        signature.verified_at = now
        signature.verified_sector_id = signature.sector_id
        signature.work_mailbox_key = link.mailbox_key
        session.flush()
        adjust_verified(session, signature, +1, now)
        session.commit()
    except IntegrityError:
        session.rollback()
        log.info("work verification refused id=%s: mailbox already verified another", signature_id)
        raise MailboxAlreadyUsed("that work mailbox has verified a signature") from None
    log.info("signature verified id=%s", signature_id)
    return signature


# Mail ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VerificationEmail:
    to: str
    token: str
    signature: Signature


def verification_email(keys: Keys, message: OutboxMessage) -> VerificationEmail:
    """Where a queued verification goes and its link, decrypted at send time (never logged).

    Raises SkipMessage if the signature no longer needs it (verified, or not confirmed now);
    the worker then records it as skipped, which erases the address too.
    """
    signature = message.signature
    if signature.status != SignatureStatus.CONFIRMED or signature.verified_at is not None:
        raise SkipMessage("no longer needs verifying")
    address = keys.cipher.decrypt(message.recipient_encrypted)
    _, canonical = email_forms(address)
    issued_at = int(message.created_at.timestamp())
    return VerificationEmail(
        address, link_token(keys, signature, keys.cipher.work_mailbox_index(canonical), issued_at), signature
    )
