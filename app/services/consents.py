"""The signer's two choices (campaign updates; sharing with their union) and changing them later."""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from app.models import Organisation, Signature, SignatureStatus, utcnow
from app.services import tokens
from app.services.keys import Keys
from app.services.signing import signature_for_token

log = logging.getLogger(__name__)

# "Another union": counted among union members, but there is no union to share details with.
UNLISTED_UNION = "other"


class ConsentRefused(ValueError):
    """A consent choice that cannot be recorded; the message is safe to show the signer."""


def can_share_with(organisation: Organisation | None) -> bool:
    """Whether "share my details with my union" means anything for this union."""
    return organisation is not None and organisation.slug != UNLISTED_UNION


def refuse_share_without_a_union(session: Session, organisation_id: int | None, share_union: bool) -> None:
    """Raises ConsentRefused for sharing with no union, or with "another union" (no one to share with)."""
    if share_union and not can_share_with(session.get(Organisation, organisation_id) if organisation_id else None):
        raise ConsentRefused(
            _l("We can only share your details with a union on our list, so we cannot share them.")
            if organisation_id
            else _l("You have not chosen a union, so there is no one to share your details with.")
        )


def update_consents(session: Session, keys: Keys, token: str, *, updates: bool, share_union: bool) -> Signature:
    """Record the signer's new consent choices.

    Raises BadToken; ConsentRefused for turning a choice on before the signature is
    confirmed (the confirmation page asks), or for sharing without a listed union.
    """
    signature = signature_for_token(session, keys, tokens.MANAGE, token)
    if (updates or share_union) and signature.status != SignatureStatus.CONFIRMED:
        raise ConsentRefused(_l("Confirm your signature first, from the link in our email: you choose there."))
    refuse_share_without_a_union(session, signature.organisation_id, share_union)
    signature.consent_updates = updates
    signature.consent_share_union = share_union
    signature.consents_updated_at = utcnow()
    session.commit()
    log.info("consents updated id=%s", signature.id)
    return signature


def stop_updates(session: Session, keys: Keys, token: str) -> None:
    """One-click unsubscribe: no more campaign updates, other choices untouched; raises BadToken."""
    signature = signature_for_token(session, keys, tokens.MANAGE, token)
    signature.consent_updates = False
    signature.consents_updated_at = utcnow()
    session.commit()
    log.info("updates stopped id=%s", signature.id)
