"""Retention: delete what we no longer need, and anonymise everything after the campaign."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app.models import OutboxMessage, Signature, SignatureStatus, utcnow
from app.services import audit

UNCONFIRMED = (SignatureStatus.PENDING, SignatureStatus.HELD)


@dataclass
class RetentionReport:
    unconfirmed_deleted: int = 0
    anonymised: int = 0
    dry_run: bool = False


def run_retention(
    session: Session,
    actor: audit.Actor,
    *,
    unconfirmed_days: int,
    campaign_end: date | None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> RetentionReport:
    """Apply the retention policy in one transaction (or only count, with dry_run).

    - Pending and held sign-ups older than unconfirmed_days are deleted.
    - Withdrawn signatures need nothing: withdrawal deletes them at once.
    - After campaign_end, every remaining signature loses its name, email, postcode and work
      mailbox key (not the fact of verification);
      its email key becomes random, so it can never be matched again. Counts are untouched.
    """
    now = now or utcnow()
    report = RetentionReport(dry_run=dry_run)
    stale = (Signature.status.in_(UNCONFIRMED)) & (Signature.created_at < now - timedelta(days=unconfirmed_days))
    report.unconfirmed_deleted = session.execute(select(func.count()).where(stale)).scalar_one()
    ended = campaign_end is not None and now.date() > campaign_end
    if ended:
        report.anonymised = session.execute(
            select(func.count()).where(Signature.anonymised_at.is_(None), ~stale)
        ).scalar_one()
    if dry_run:
        return report
    stale_ids = select(Signature.id).where(stale).scalar_subquery()
    session.execute(delete(OutboxMessage).where(OutboxMessage.signature_id.in_(stale_ids)))
    session.execute(delete(Signature).where(stale).execution_options(synchronize_session=False))
    if ended:
        ids = session.execute(select(Signature.id).where(Signature.anonymised_at.is_(None))).scalars().all()
        session.execute(delete(OutboxMessage).where(OutboxMessage.signature_id.in_(ids)))
        for signature_id in ids:
            session.execute(
                update(Signature)
                .where(Signature.id == signature_id)
                .values(
                    email_encrypted=None,
                    name_encrypted=None,
                    postcode_outward=None,
                    email_domain_key=None,
                    email_key=secrets.token_bytes(32),
                    work_mailbox_key=None,  # verification's fact, sector and date stay
                    anonymised_at=now,
                )
            )
    audit.record(session, actor, "retention.run", deleted=report.unconfirmed_deleted, anonymised=report.anonymised)
    session.commit()
    return report
