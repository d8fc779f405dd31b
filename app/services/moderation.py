"""Moderation: find sign-ups (masked, paged), reveal one, invalidate or delete them, review held ones, block domains.

Longer than the house's 300 lines (about 390) on purpose: the search, its audit record and the
bulk actions share one Criteria and one query, so that what an admin saw counted is exactly what
an action changes. The next thing to grow here should take masking and paging out with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.models import BlockedDomain, Organisation, OutboxMessage, Sector, Signature, SignatureStatus, utcnow
from app.services import audit
from app.services.counts import uncount
from app.services.days import DayOutOfRange, within_days
from app.services.keys import Keys
from app.services.normalise import InvalidInput, canonical_email
from app.services.signing import CONFIRM_EMAIL, erase_signature

PAGE_SIZE = 50
MASK = "*****"  # always five: the mask does not give away the length of what it hides


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
        """For showing the organiser what they asked for: which criteria, never the email itself."""
        return {k: (_l("(given)") if k == "email" else str(v)) for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class Found:
    """A sign-up as moderation shows it. Lists mask name and email; reveal() fills them in."""

    id: int
    name: str | None
    email: str | None
    sector: str
    organisation: str | None
    source: str | None
    status: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True)
class Page:
    """One page of a list, and where it sits in the whole (numbers count from 1)."""

    rows: list[Found]
    total: int
    number: int
    upto: int | None = None  # the newest id when paging began, so later sign-ups do not shift pages
    size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        return (self.number - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def mask_email(email: str) -> str:
    """w*****@example.org: the first character and the whole domain (enough to spot a spam wave)."""
    local, at, domain = email.rpartition("@")
    return f"{local[:1]}{MASK}{at}{domain}" if at else MASK


def mask_name(name: str) -> str:
    """Ada L.: the first name and the initial of the last (enough to tell junk from a person)."""
    words = name.split()
    if len(words) < 2:
        return name
    return f"{words[0]} {words[-1][:1]}."


def _search_domain(domain: str) -> str:
    """The domain as signing stored it (lower case, provider aliases folded: googlemail.com is gmail.com)."""
    try:
        return canonical_email("x@" + domain.strip().lstrip("@")).rpartition("@")[2]
    except InvalidInput:
        raise ModerationError(_l("Give a domain like example.com.")) from None


def _query(keys: Keys, criteria: Criteria) -> Select:
    query = select(Signature)
    if criteria.email:
        try:
            key = keys.cipher.blind_index(canonical_email(criteria.email))
        except InvalidInput as error:
            raise ModerationError(str(error)) from None
        query = query.where(Signature.email_key == key)
    if criteria.domain:
        query = query.where(Signature.email_domain_key == keys.cipher.domain_index(_search_domain(criteria.domain)))
    if criteria.source:
        query = query.where(Signature.source == criteria.source)
    if criteria.status:
        try:
            query = query.where(Signature.status == SignatureStatus(criteria.status))
        except ValueError:
            raise ModerationError(_l("Unknown status.")) from None
    try:
        query = query.where(*within_days(Signature.created_at, criteria.created_from, criteria.created_to))
    except DayOutOfRange as error:
        raise ModerationError(str(error)) from None
    return query


def _audited(keys: Keys, criteria: Criteria) -> dict:
    """The criteria for the audit log: what was searched by, and only values that identify nobody.

    The email is not kept at all and the domain only as the keyed hash signatures carry
    (Signature.email_domain_key), so an auditor can match it without the log holding the domain.
    """
    details: dict = {"by": [name for name, value in vars(criteria).items() if value]}
    if criteria.domain:
        details["domain_hash"] = keys.cipher.domain_index(_search_domain(criteria.domain)).hex()
    for name in ("source", "status", "created_from", "created_to"):
        if value := getattr(criteria, name):
            details[name] = str(value)
    return details


def find(
    session: Session, keys: Keys, actor: audit.Actor, criteria: Criteria, page: int = 1, upto: int | None = None
) -> Page:
    """A page of sign-ups matching the criteria, newest first, names and emails masked; audited.

    upto (Page.upto of the first page) keeps sign-ups made since out of later pages, so paging
    neither repeats nor skips rows. A page past the end is the last page. Raises ModerationError.
    """
    if criteria.is_empty():
        raise ModerationError(_l("Give at least one thing to search by."))
    query = _query(keys, criteria)
    if upto is not None:
        query = query.where(Signature.id <= upto)
    ids = query.with_only_columns(Signature.id).subquery()
    total, newest = session.execute(select(func.count(), func.max(ids.c.id))).one()
    found = _page(session, keys, query.order_by(Signature.id.desc()), total, page, upto or newest)
    audit.record(
        session,
        actor,
        "moderation.search",
        criteria=_audited(keys, criteria),
        page=found.number,
        results=len(found.rows),
        total=total,
    )
    session.commit()
    return found


def _page(session: Session, keys: Keys, ordered: Select, total: int, number: int, upto: int | None) -> Page:
    number = min(max(number, 1), max(1, -(-total // PAGE_SIZE)))
    rows = session.execute(
        ordered.with_only_columns(
            Signature.id,
            Signature.name_encrypted,
            Signature.email_encrypted,
            Sector.slug,
            Organisation.slug,
            Signature.source,
            Signature.status,
            func.coalesce(Signature.held_reason, Signature.invalid_reason),
            Signature.created_at,
        )
        .join(Sector, Sector.id == Signature.sector_id)
        .outerjoin(Organisation, Organisation.id == Signature.organisation_id)
        .offset((number - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    decrypt = keys.cipher.decrypt
    listed = [
        Found(
            id_,
            mask_name(decrypt(name)) if name is not None else None,
            mask_email(decrypt(email)) if email is not None else None,
            sector,
            organisation,
            source,
            status.value,
            reason,
            created_at,
        )
        for id_, name, email, sector, organisation, source, status, reason, created_at in rows
    ]
    return Page(listed, total, number, upto)


def reveal(session: Session, keys: Keys, actor: audit.Actor, signature_id: int) -> Found:
    """One sign-up with its name and email in full, for a moderator who needs them.

    Writes a "moderation.reveal" audit event (the id only) and commits. Raises ModerationError.
    """
    signature = session.get(Signature, signature_id)
    if signature is None:
        raise ModerationError(_l("No such signature."))

    def plain(value: bytes | None) -> str | None:
        return keys.cipher.decrypt(value) if value is not None else None

    found = Found(
        signature.id,
        plain(signature.name_encrypted),
        plain(signature.email_encrypted),
        signature.sector.slug,
        signature.organisation.slug if signature.organisation else None,
        signature.source,
        signature.status.value,
        signature.held_reason or signature.invalid_reason,
        signature.created_at,
    )
    audit.record(session, actor, "moderation.reveal", id=signature_id)
    session.commit()
    return found


def count_matching(session: Session, keys: Keys, criteria: Criteria) -> int:
    """How many a bulk action would touch (only those it can change: not already invalid)."""
    if criteria.is_empty():
        raise ModerationError(_l("Give at least one thing to match by."))
    query = _query(keys, criteria).where(Signature.status != SignatureStatus.INVALID)
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > 200:
        raise ModerationError(_l("Give a reason of up to 200 characters."))
    return reason


def _invalidate(session: Session, signature: Signature, reason: str, now: datetime) -> bool:
    """Take one signature out of the count (in the caller's transaction); False if it already was."""
    if signature.status == SignatureStatus.INVALID:
        return False
    if signature.status == SignatureStatus.CONFIRMED:
        uncount(session, signature, now)
    signature.status = SignatureStatus.INVALID
    signature.held_reason = None
    signature.invalid_reason = reason
    return True


def _locked(session: Session, signature_ids: Iterable[int]) -> list[Signature]:
    return list(
        session.execute(
            select(Signature).where(Signature.id.in_(list(signature_ids))).order_by(Signature.id).with_for_update()
        ).scalars()
    )


def invalidate(session: Session, actor: audit.Actor, signature_ids: list[int], reason: str) -> int:
    """Take signatures out of the count, keeping them for the record; one transaction, one audit event."""
    reason = _reason(reason)
    now = utcnow()
    changed = sum(_invalidate(session, signature, reason, now) for signature in _locked(session, signature_ids))
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
        raise ModerationError(
            ngettext(
                "The match changed from %(expected)s to %(num)s sign-ups; preview again.",
                "The match changed from %(expected)s to %(num)s sign-ups; preview again.",
                len(ids),
                expected=expected,
            )
        )
    audit.record(
        session, actor, "moderation.bulk_preview_confirmed", criteria=_audited(keys, criteria), matched=len(ids)
    )
    return invalidate(session, actor, list(ids), reason)


def moderate_selected(session: Session, actor: audit.Actor, action: str, signature_ids: list[int], reason: str) -> int:
    """Invalidate or delete the sign-ups ticked on a page of results, all in one transaction.

    Each is audited as the single action would be ("moderation.invalidate" or "moderation.delete").
    Ids no longer there are skipped. Returns how many changed. Raises ModerationError.
    """
    if action not in ("invalidate", "delete"):
        raise ModerationError(_l("Choose invalidate or delete."))
    reason = _reason(reason)
    wanted = set(signature_ids)
    if not wanted or len(wanted) > PAGE_SIZE:
        raise ModerationError(_l("Select between 1 and %(most)s sign-ups.", most=PAGE_SIZE))
    now = utcnow()
    changed = 0
    for signature in _locked(session, wanted):
        if action == "invalidate":
            done = int(_invalidate(session, signature, reason, now))
            audit.record(session, actor, "moderation.invalidate", ids=[signature.id], reason=reason, changed=done)
            changed += done
        else:
            audit.record(session, actor, "moderation.delete", id=signature.id, reason=reason)
            erase_signature(session, signature)
            changed += 1
    session.commit()
    return changed


def delete(session: Session, actor: audit.Actor, signature_id: int, reason: str) -> None:
    """Erase a signature entirely (uncounting it if it counted)."""
    signature = session.get(Signature, signature_id, with_for_update=True)
    if signature is None:
        raise ModerationError(_l("No such signature."))
    erase_signature(session, signature)
    audit.record(session, actor, "moderation.delete", id=signature_id, reason=reason.strip()[:200])
    session.commit()


def held(session: Session, keys: Keys, page: int = 1) -> Page:
    """A page of held sign-ups, oldest first (a queue: new ones join the end), names and emails masked."""
    query = select(Signature).where(Signature.status == SignatureStatus.HELD)
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    return _page(session, keys, query.order_by(Signature.id), total, page, None)


def release(session: Session, actor: audit.Actor, signature_id: int) -> None:
    """A held sign-up was a false positive: send it its confirmation email like any other."""
    signature = session.get(Signature, signature_id, with_for_update=True)
    if signature is None or signature.status != SignatureStatus.HELD:
        raise ModerationError(_l("That sign-up is not held."))
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
        raise ModerationError(_l("Give a domain like example.com."))
    if session.execute(select(BlockedDomain.id).where(BlockedDomain.domain == domain)).first():
        raise ModerationError(_l("That domain is already blocked."))
    session.add(BlockedDomain(domain=domain, reason=reason.strip()[:200]))
    audit.record(session, actor, "moderation.block_domain", domain=domain)
    session.commit()


def unblock_domain(session: Session, actor: audit.Actor, domain_id: int) -> None:
    blocked = session.get(BlockedDomain, domain_id)
    if blocked is None:
        raise ModerationError(_l("No such blocked domain."))
    audit.record(session, actor, "moderation.unblock_domain", domain=blocked.domain)
    session.delete(blocked)
    session.commit()
