"""Moderation: find sign-ups, invalidate or delete them, review held ones, block domains."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.models import BlockedDomain, OutboxMessage, Signature, SignatureStatus, utcnow
from app.services import audit
from app.services.counts import adjust_count
from app.services.days import within_days
from app.services.keys import Keys
from app.services.normalise import InvalidInput, canonical_email
from app.services.signing import CONFIRM_EMAIL, erase_signature


class ModerationError(ValueError):
    """A moderation request that cannot be done; the message is safe to show."""


@dataclass(frozen=True)
class Criteria:
    """What to look for. Email and domain are matched through their keyed hashes."""

    email: str | None = None
    domain: str | None = None
    source: str | None = None
    status: str | None = None
    created_from: date | None = None
    created_to: date | None = None  # inclusive

    def is_empty(self) -> bool:
        return not any(vars(self).values())

    def describe(self) -> dict:
        """For the audit log: which kinds of criteria, never the email itself."""
        return {k: ("(given)" if k == "email" else str(v)) for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class Found:
    id: int
    name: str | None
    email: str | None
    sector: str
    organisation: str | None
    source: str | None
    status: str
    reason: str | None
    created_at: datetime


def _query(keys: Keys, criteria: Criteria) -> Select:
    query = select(Signature)
    if criteria.email:
        try:
            key = keys.cipher.blind_index(canonical_email(criteria.email))
        except InvalidInput as error:
            raise ModerationError(str(error)) from None
        query = query.where(Signature.email_key == key)
    if criteria.domain:
        query = query.where(Signature.email_domain_key == keys.cipher.domain_index(criteria.domain.strip().lstrip("@")))
    if criteria.source:
        query = query.where(Signature.source == criteria.source)
    if criteria.status:
        try:
            query = query.where(Signature.status == SignatureStatus(criteria.status))
        except ValueError:
            raise ModerationError("Unknown status.") from None
    query = query.where(*within_days(Signature.created_at, criteria.created_from, criteria.created_to))
    return query


def find(session: Session, keys: Keys, actor: audit.Actor, criteria: Criteria, limit: int = 100) -> list[Found]:
    """Sign-ups matching the criteria, newest first, decrypted for review; the search is audited."""
    if criteria.is_empty():
        raise ModerationError("Give at least one thing to search by.")
    rows = session.execute(_query(keys, criteria).order_by(Signature.id.desc()).limit(limit)).scalars().all()
    audit.record(session, actor, "moderation.search", criteria=criteria.describe(), results=len(rows))
    session.commit()
    return [_found(keys, s) for s in rows]


def _found(keys: Keys, s: Signature) -> Found:
    def plain(value):
        return keys.cipher.decrypt(value) if value is not None else None

    return Found(
        s.id,
        plain(s.name_encrypted),
        plain(s.email_encrypted),
        s.sector.slug,
        s.organisation.slug if s.organisation else None,
        s.source,
        s.status.value,
        s.held_reason or s.invalid_reason,
        s.created_at,
    )


def count_matching(session: Session, keys: Keys, criteria: Criteria) -> int:
    """How many a bulk action would touch (only those it can change: not already invalid)."""
    if criteria.is_empty():
        raise ModerationError("Give at least one thing to match by.")
    query = _query(keys, criteria).where(Signature.status != SignatureStatus.INVALID)
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def invalidate(session: Session, actor: audit.Actor, signature_ids: list[int], reason: str) -> int:
    """Take signatures out of the count, keeping them for the record; one transaction."""
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise ModerationError("Give a reason of up to 200 characters.")
    changed = 0
    now = utcnow()
    for signature in session.execute(
        select(Signature).where(Signature.id.in_(signature_ids)).with_for_update()
    ).scalars():
        if signature.status == SignatureStatus.INVALID:
            continue
        if signature.status == SignatureStatus.CONFIRMED:
            adjust_count(session, signature.sector_id, signature.organisation_id, -1, now)
        signature.status = SignatureStatus.INVALID
        signature.held_reason = None
        signature.invalid_reason = reason
        changed += 1
    audit.record(session, actor, "moderation.invalidate", ids=signature_ids, reason=reason, changed=changed)
    session.commit()
    return changed


def bulk_invalidate(
    session: Session, keys: Keys, actor: audit.Actor, criteria: Criteria, reason: str, expected: int
) -> int:
    """Invalidate everything matching, but only if it is still the number the organiser previewed."""
    ids = (
        session.execute(
            _query(keys, criteria).with_only_columns(Signature.id).where(Signature.status != SignatureStatus.INVALID)
        )
        .scalars()
        .all()
    )
    if len(ids) != expected:
        raise ModerationError(f"The match changed from {expected} to {len(ids)} sign-ups; preview again.")
    audit.record(session, actor, "moderation.bulk_preview_confirmed", criteria=criteria.describe(), matched=len(ids))
    return invalidate(session, actor, list(ids), reason)


def delete(session: Session, actor: audit.Actor, signature_id: int, reason: str) -> None:
    """Erase a signature entirely (uncounting it if it counted)."""
    signature = session.get(Signature, signature_id, with_for_update=True)
    if signature is None:
        raise ModerationError("No such signature.")
    erase_signature(session, signature)
    audit.record(session, actor, "moderation.delete", id=signature_id, reason=reason.strip()[:200])
    session.commit()


def held(session: Session, keys: Keys, limit: int = 200) -> list[Found]:
    rows = session.execute(
        select(Signature).where(Signature.status == SignatureStatus.HELD).order_by(Signature.id).limit(limit)
    ).scalars()
    return [_found(keys, s) for s in rows]


def release(session: Session, actor: audit.Actor, signature_id: int) -> None:
    """A held sign-up was a false positive: send it its confirmation email like any other."""
    signature = session.get(Signature, signature_id, with_for_update=True)
    if signature is None or signature.status != SignatureStatus.HELD:
        raise ModerationError("That sign-up is not held.")
    signature.status = SignatureStatus.PENDING
    signature.held_reason = None
    signature.emails_queued += 1
    session.add(OutboxMessage(signature_id=signature.id, kind=CONFIRM_EMAIL))
    audit.record(session, actor, "moderation.release", id=signature_id)
    session.commit()


def blocked_domains(session: Session) -> list[BlockedDomain]:
    return list(session.execute(select(BlockedDomain).order_by(BlockedDomain.domain)).scalars())


def block_domain(session: Session, actor: audit.Actor, domain: str, reason: str) -> None:
    domain = domain.strip().lower().lstrip("@")
    if not domain or "." not in domain or len(domain) > 253 or any(c.isspace() for c in domain):
        raise ModerationError("Give a domain like example.com.")
    if session.execute(select(BlockedDomain.id).where(BlockedDomain.domain == domain)).first():
        raise ModerationError("That domain is already blocked.")
    session.add(BlockedDomain(domain=domain, reason=reason.strip()[:200]))
    audit.record(session, actor, "moderation.block_domain", domain=domain)
    session.commit()


def unblock_domain(session: Session, actor: audit.Actor, domain_id: int) -> None:
    blocked = session.get(BlockedDomain, domain_id)
    if blocked is None:
        raise ModerationError("No such blocked domain.")
    audit.record(session, actor, "moderation.unblock_domain", domain=blocked.domain)
    session.delete(blocked)
    session.commit()
