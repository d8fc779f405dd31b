"""The signing service: dedup, reminders with a cap, confirmation, withdrawal, consents."""

import time

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import OutboxMessage, Signature, SignatureStatus
from app.services import tokens
from app.services.counts import get_counts
from app.services.signing import (
    SignOutcome,
    confirm_signature,
    update_consents,
    withdraw_signature,
)

DAY = 86400


def only_signature() -> Signature:
    return db.session.execute(select(Signature)).scalar_one()


def queued_kinds() -> list[str]:
    return db.session.execute(select(OutboxMessage.kind).order_by(OutboxMessage.id)).scalars().all()


def token_for(keys, purpose, signature, now=None):
    return tokens.make_token(keys.token_key, purpose, signature.id, signature.token_nonce, now=now)


def test_new_signature_is_pending_and_queues_one_confirmation(make_signup):
    assert make_signup() is SignOutcome.CREATED
    signature = only_signature()
    assert signature.status is SignatureStatus.PENDING
    assert queued_kinds() == ["confirm"]
    assert get_counts(db.session).total == 0


def test_variants_of_one_mailbox_make_one_signature(make_signup):
    make_signup(email="ada.lovelace@gmail.com")
    assert make_signup(email="AdaLovelace+x@googlemail.com") is SignOutcome.CONFIRMATION_RESENT
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1


def test_resubmission_changes_nothing_but_sends_a_reminder(make_signup, keys):
    make_signup(name="Ada", sector="education")
    make_signup(name="Mallory", sector="policing")
    signature = only_signature()
    assert keys.cipher.decrypt(signature.name_encrypted) == "Ada"
    assert signature.sector.slug == "education"
    assert queued_kinds() == ["confirm", "confirm"]


def test_confirmed_signer_who_signs_again_gets_already_signed(make_signup, keys):
    make_signup()
    confirm_signature(db.session, keys, token_for(keys, tokens.CONFIRM, only_signature()), DAY)
    assert make_signup() is SignOutcome.ALREADY_SIGNED_NOTIFIED
    assert queued_kinds() == ["confirm", "already_signed"]


def test_emails_per_signature_are_capped(app, make_signup):
    cap = app.config["MAIL_MAX_PER_SIGNATURE"]
    outcomes = [make_signup() for _ in range(cap + 5)]
    assert len(queued_kinds()) == cap
    assert outcomes[-1] is SignOutcome.EMAIL_LIMIT_REACHED


def test_confirming_counts_once_and_is_idempotent(make_signup, keys, org_id):
    make_signup(organisation_id=org_id("neu"))
    token = token_for(keys, tokens.CONFIRM, only_signature())
    for _ in range(3):
        confirm_signature(db.session, keys, token, DAY)
    counts = get_counts(db.session)
    assert counts.total == 1
    assert counts.sector("education").count == 1
    assert counts.organisation("neu").count == 1
    assert counts.organisation("unison").count == 0
    assert only_signature().confirmed_at is not None


def test_expired_confirmation_link_is_refused(make_signup, keys):
    make_signup()
    old = token_for(keys, tokens.CONFIRM, only_signature(), now=time.time() - 2 * DAY)
    with pytest.raises(tokens.BadToken, match="expired"):
        confirm_signature(db.session, keys, old, DAY)
    assert get_counts(db.session).total == 0


def test_manage_link_cannot_confirm_and_confirm_link_cannot_withdraw(make_signup, keys):
    make_signup()
    signature = only_signature()
    with pytest.raises(tokens.BadToken):
        confirm_signature(db.session, keys, token_for(keys, tokens.MANAGE, signature), DAY)
    with pytest.raises(tokens.BadToken):
        withdraw_signature(db.session, keys, token_for(keys, tokens.CONFIRM, signature))


def test_withdrawal_erases_the_row_and_uncounts(make_signup, keys, org_id):
    make_signup(organisation_id=org_id("neu"))
    signature = only_signature()
    confirm_signature(db.session, keys, token_for(keys, tokens.CONFIRM, signature), DAY)
    manage = token_for(keys, tokens.MANAGE, signature)
    withdraw_signature(db.session, keys, manage)
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    counts = get_counts(db.session)
    assert (counts.total, counts.organisation("neu").count) == (0, 0)
    with pytest.raises(tokens.BadToken):
        withdraw_signature(db.session, keys, manage)
    assert make_signup() is SignOutcome.CREATED  # the address may sign again


def test_withdrawing_a_pending_signature_leaves_counts_alone(make_signup, keys):
    make_signup(email="a@example.com")
    make_signup(email="b@example.com")
    first, second = db.session.execute(select(Signature).order_by(Signature.id)).scalars().all()
    confirm_signature(db.session, keys, token_for(keys, tokens.CONFIRM, second), DAY)
    withdraw_signature(db.session, keys, token_for(keys, tokens.MANAGE, first))
    assert get_counts(db.session).total == 1


def test_consents_change_and_share_needs_a_union(make_signup, keys, org_id):
    make_signup(email="a@example.com")
    make_signup(email="b@example.com", organisation_id=org_id("unison"))
    no_union, with_union = db.session.execute(select(Signature).order_by(Signature.id)).scalars().all()
    updated = update_consents(
        db.session, keys, token_for(keys, tokens.MANAGE, no_union), updates=True, share_union=True
    )
    assert (updated.consent_updates, updated.consent_share_union) == (True, False)
    updated = update_consents(
        db.session, keys, token_for(keys, tokens.MANAGE, with_union), updates=False, share_union=True
    )
    assert (updated.consent_updates, updated.consent_share_union) == (False, True)


def test_an_invalidated_signature_cannot_be_confirmed_again(make_signup, keys):
    from app.services import audit, moderation

    make_signup()
    signature = only_signature()
    token = token_for(keys, tokens.CONFIRM, signature)
    confirm_signature(db.session, keys, token, DAY)
    moderation.invalidate(db.session, audit.CLI, [signature.id], "spam")
    with pytest.raises(tokens.BadToken):
        confirm_signature(db.session, keys, token, DAY)
    assert get_counts(db.session).total == 0
