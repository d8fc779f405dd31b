"""Confirming a signature: what its confirmation page offers, and recording what its owner chose."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, bindparam, func, select, text
from sqlalchemy.orm import Session

from app.models import Signature, SignatureStatus, Tz, utcnow
from app.services import tokens
from app.services.consents import refuse_share_without_a_union
from app.services.counts import adjust_count, place_of, shard_for
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
    # The language of the page the owner confirmed on; their emails are written in it from now on.
    language: str | None = None


def confirmable_signature(session: Session, keys: Keys, token: str, max_age_seconds: int) -> Signature:
    """The signature a confirmation link is for, unless moderators have held or invalidated it."""
    signature = signature_for_token(session, keys, tokens.CONFIRM, token, max_age_seconds)
    if signature.status in (SignatureStatus.HELD, SignatureStatus.INVALID):
        raise tokens.BadToken("not confirmable")
    return signature


@dataclass(frozen=True)
class ConfirmLink:
    """What a confirm POST needs to know about the signature its link is for (no ORM load)."""

    id: int
    status: SignatureStatus
    sector_id: int
    postcode_outward: str | None
    token_nonce: bytes = b""  # for the thank-you page's work-email offer link (issue 12)


def confirm_link(session: Session, keys: Keys, token: str, max_age_seconds: int) -> ConfirmLink:
    """The signature a confirmation link is for, as a few columns; raises BadToken as
    confirmable_signature does. One prebuilt select: the surge's confirm POSTs take this path."""
    parsed = tokens.parse_token(token)
    row = session.connection().execute(_LINK, {"b_id": parsed.signature_id}).one_or_none()
    if row is None:
        raise tokens.BadToken("no such signature")
    tokens.verify_token(keys.token_key, tokens.CONFIRM, parsed, row.token_nonce, max_age_seconds)
    if row.status in (SignatureStatus.HELD, SignatureStatus.INVALID):
        raise tokens.BadToken("not confirmable")
    return ConfirmLink(row.id, row.status, row.sector_id, row.postcode_outward, row.token_nonce)


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
    link: ConfirmLink | None = None,
) -> ConfirmLink:
    """Confirm the signature as its owner saw and chose it, and count it, in one transaction.

    Records the confirmation's name, consents and wording version; returns the link's
    signature as it was before. Idempotent: an already confirmed signature is left unchanged
    (its choices change on the manage page). Raises
    tokens.BadToken for a malformed, forged, revoked, expired, held or invalid one;
    DetailsChanged if a later sign-up replaced the details the page showed; InvalidInput
    for a name we cannot take; ConsentRefused for sharing without a listed union.

    link, when the caller has just checked the token with confirm_link in this transaction,
    saves reading it again (the update below re-checks the status anyway).
    """
    signature = link or confirm_link(session, keys, token, max_age_seconds)
    if signature.status == SignatureStatus.CONFIRMED:
        return signature
    name = clean_name(confirmation.name)
    refuse_share_without_a_union(session, confirmation.organisation_id, confirmation.consent_share_union)
    now = now or utcnow()
    values = {
        "b_id": signature.id,
        "b_sector": confirmation.sector_id,
        "b_org": confirmation.organisation_id,
        "b_postcode": confirmation.postcode_outward,
        "b_now": now,
        "b_name": keys.cipher.encrypt(name),
        "b_updates": confirmation.consent_updates,
        "b_share": confirmation.consent_share_union,
        "b_wording": confirmation.wording_version,
        "b_language": confirmation.language,
        "b_shard": shard_for(signature.id),
    }
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        area_code, region = place_of(confirmation.postcode_outward)
        row = connection.execute(_CONFIRM_AND_COUNT, values | {"b_area": area_code, "b_region": region}).one()
        changed, counted = row.confirmed, row.counted
    else:
        changed, counted = connection.execute(_CONFIRM, values).rowcount, False
    if changed:  # the cell is the one the row had when it was confirmed, by the WHERE above
        if not counted:  # SQLite, or a cell that does not exist yet (a union added since `flask seed`)
            adjust_count(
                session,
                confirmation.sector_id,
                confirmation.organisation_id,
                +1,
                now,
                postcode_outward=confirmation.postcode_outward,
                shard=values["b_shard"],
            )
        session.commit()
        log.info("signature confirmed id=%s", signature.id)
        return signature
    session.rollback()
    if confirm_link(session, keys, token, max_age_seconds).status != SignatureStatus.CONFIRMED:  # a racing press?
        raise DetailsChanged("the sign-up changed after the page was shown")
    return signature


# Built once with bound parameters (its cache key memoised): only the details that were shown
# may be confirmed, so a resubmission since then must be seen first.
_signatures = Signature.__table__
_LINK = select(
    _signatures.c.id,
    _signatures.c.status,
    _signatures.c.token_nonce,
    _signatures.c.sector_id,
    _signatures.c.postcode_outward,
).where(_signatures.c.id == bindparam("b_id"))
_CONFIRM = (
    _signatures.update()
    .where(
        _signatures.c.id == bindparam("b_id"),
        _signatures.c.status == SignatureStatus.PENDING,
        _signatures.c.sector_id == bindparam("b_sector"),
        _signatures.c.organisation_id.is_not_distinct_from(bindparam("b_org")),
        _signatures.c.postcode_outward.is_not_distinct_from(bindparam("b_postcode")),
    )
    .values(
        status=SignatureStatus.CONFIRMED,
        confirmed_at=bindparam("b_now"),
        name_encrypted=bindparam("b_name"),
        consent_updates=bindparam("b_updates"),
        consent_share_union=bindparam("b_share"),
        consents_updated_at=bindparam("b_now"),
        wording_version=bindparam("b_wording"),
        language=func.coalesce(bindparam("b_language", type_=String), _signatures.c.language),
        count_shard=bindparam("b_shard"),
    )
)


# PostgreSQL: the same update, the count cell and the place cell in one statement, so a
# confirmation costs one round trip and one statement's overhead instead of three (the surge's
# confirm POSTs; bench/README.md, "Confirmation load"). The count cell (the signature's shard of
# its pair) is only touched when the signature was confirmed (EXISTS), and row locks are taken
# in the same order as adjust_count's: signature, count cell, place cell. "counted" is 0 when
# the cell does not exist yet; the caller then creates it in the same transaction. The WHERE
# must stay the same as _CONFIRM's.
_CONFIRM_AND_COUNT = text(
    """
WITH confirmed AS (
    UPDATE signature
    SET status = 'confirmed', confirmed_at = :b_now, name_encrypted = :b_name,
        consent_updates = :b_updates, consent_share_union = :b_share, consents_updated_at = :b_now,
        wording_version = :b_wording, language = coalesce(CAST(:b_language AS VARCHAR), language),
        count_shard = :b_shard
    WHERE id = :b_id AND status = 'pending' AND sector_id = :b_sector
        AND organisation_id IS NOT DISTINCT FROM :b_org AND postcode_outward IS NOT DISTINCT FROM :b_postcode
    RETURNING id
), cell AS (
    UPDATE count_cell SET count = count + 1, updated_at = :b_now
    WHERE sector_id = :b_sector AND organisation_id IS NOT DISTINCT FROM :b_org AND shard = :b_shard
        AND EXISTS (SELECT FROM confirmed)
    RETURNING id
), place AS (
    INSERT INTO area_count_cell (count_cell_id, area_code, region, count, updated_at)
    SELECT id, CAST(:b_area AS VARCHAR), CAST(:b_region AS VARCHAR), 1, :b_now FROM cell
    ON CONFLICT (count_cell_id, area_code, region)
    DO UPDATE SET count = area_count_cell.count + 1, updated_at = excluded.updated_at
)
SELECT (SELECT count(*) FROM confirmed) AS confirmed, (SELECT count(*) FROM cell) AS counted
"""
).bindparams(bindparam("b_now", type_=Tz()))
