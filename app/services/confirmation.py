"""Confirming a signature: what its confirmation page offers, and recording what its owner chose."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.models import Signature, SignatureStatus, utcnow
from app.services import tokens
from app.services.consents import refuse_share_without_a_union
from app.services.counts import adjust_count
from app.services.keys import Keys
from app.services.normalise import clean_name
from app.services.signing import signature_for_token

log = logging.getLogger(__name__)


class DetailsChanged(Exception):
    """The sign-up was replaced by a later submission after its confirmation page was shown."""


@dataclass(frozen=True)
class Confirmation:
    """What the confirmation page showed and what its owner chose there: this is what is recorded.

    sector_id, organisation_id and postcode_outward are the details the page showed; the name
    may have been corrected on it; the two choices start unticked.
    """

    name: str
    sector_id: int
    organisation_id: int | None
    postcode_outward: str | None
    wording_version: str
    consent_updates: bool = False
    consent_share_union: bool = False


def confirmable_signature(session: Session, keys: Keys, token: str, max_age_seconds: int) -> Signature:
    """The signature a confirmation link is for, unless moderators have held or invalidated it."""
    signature = signature_for_token(session, keys, tokens.CONFIRM, token, max_age_seconds)
    if signature.status in (SignatureStatus.HELD, SignatureStatus.INVALID):
        raise tokens.BadToken("not confirmable")
    return signature


def offered_confirmation(keys: Keys, signature: Signature, wording_version: str) -> Confirmation:
    """What the confirmation page offers: the details as they stand and both choices unticked."""
    return Confirmation(
        name=keys.cipher.decrypt(signature.name_encrypted),
        sector_id=signature.sector_id,
        organisation_id=signature.organisation_id,
        postcode_outward=signature.postcode_outward,
        wording_version=wording_version,
    )


def confirm_signature(
    session: Session,
    keys: Keys,
    token: str,
    max_age_seconds: int,
    confirmation: Confirmation,
    now: datetime | None = None,
) -> Signature:
    """Confirm the signature as its owner saw and chose it, and count it, in one transaction.

    Records the confirmation's name, consents and wording version. Idempotent: an already
    confirmed signature is returned unchanged (its choices change on the manage page). Raises
    tokens.BadToken for a malformed, forged, revoked, expired, held or invalid one;
    DetailsChanged if a later sign-up replaced the details the page showed; InvalidInput
    for a name we cannot take; ConsentRefused for sharing without a listed union.
    """
    signature = confirmable_signature(session, keys, token, max_age_seconds)
    if signature.status == SignatureStatus.CONFIRMED:
        return signature
    name = clean_name(confirmation.name)
    refuse_share_without_a_union(session, confirmation.organisation_id, confirmation.consent_share_union)
    now = now or utcnow()
    changed = session.execute(
        update(Signature)
        .where(  # only the details that were shown: a resubmission since then must be seen first
            Signature.id == signature.id,
            Signature.status == SignatureStatus.PENDING,
            Signature.sector_id == confirmation.sector_id,
            Signature.organisation_id.is_not_distinct_from(confirmation.organisation_id),
            Signature.postcode_outward.is_not_distinct_from(confirmation.postcode_outward),
        )
        .values(
            status=SignatureStatus.CONFIRMED,
            confirmed_at=now,
            name_encrypted=keys.cipher.encrypt(name),
            consent_updates=confirmation.consent_updates,
            consent_share_union=confirmation.consent_share_union,
            consents_updated_at=now,
            wording_version=confirmation.wording_version,
        )
    ).rowcount
    if changed:  # the cell is the one the row had when it was confirmed, by the WHERE above
        adjust_count(
            session,
            confirmation.sector_id,
            confirmation.organisation_id,
            +1,
            now,
            postcode_outward=confirmation.postcode_outward,
        )
        session.commit()
        log.info("signature confirmed id=%s", signature.id)
    else:
        session.rollback()
    signature = confirmable_signature(session, keys, token, max_age_seconds)
    if not changed and signature.status != SignatureStatus.CONFIRMED:  # a racing press may have won
        raise DetailsChanged("the sign-up changed after the page was shown")
    return signature
