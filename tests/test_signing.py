"""The signing service: dedup, replacing unconfirmed details, reminders with a cap, confirmation
with the owner's choices, withdrawal, consents and the name rules."""

import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from app import content_loader
from app.extensions import db
from app.models import OutboxMessage, Signature, SignatureStatus
from app.services import tokens
from app.services.confirmation import DetailsChanged, confirm_signature, offered_confirmation
from app.services.consents import ConsentRefused, update_consents
from app.services.counts import get_counts
from app.services.normalise import InvalidInput
from app.services.signing import HoldReason, SignOutcome, withdraw_signature

DAY = 86400


def only_signature() -> Signature:
    return db.session.execute(select(Signature)).scalar_one()


def queued_kinds() -> list[str]:
    return db.session.execute(select(OutboxMessage.kind).order_by(OutboxMessage.id)).scalars().all()


def token_for(keys, purpose, signature, now=None):
    return tokens.make_token(keys.token_key, purpose, signature.id, signature.token_nonce, now=now)


def as_offered(keys, signature, **chosen):
    """The confirmation page's details for this signature, with the owner's choices."""
    return replace(offered_confirmation(keys, signature, content_loader.pledge()["version"]), **chosen)


def confirm_as_offered(keys, signature, **chosen):
    confirm_signature(
        db.session, keys, token_for(keys, tokens.CONFIRM, signature), DAY, as_offered(keys, signature, **chosen)
    )
    return db.session.get(Signature, signature.id)


def test_new_signature_is_pending_without_consents_and_queues_one_confirmation(make_signup):
    assert make_signup() is SignOutcome.CREATED
    signature = only_signature()
    assert signature.status is SignatureStatus.PENDING
    assert (signature.consent_updates, signature.consent_share_union) == (False, False)
    assert queued_kinds() == ["confirm"]
    assert get_counts(db.session).total == 0


def test_variants_of_one_mailbox_make_one_signature(make_signup):
    make_signup(email="ada.lovelace@gmail.com")
    assert make_signup(email="AdaLovelace+x@googlemail.com") is SignOutcome.CONFIRMATION_RESENT
    assert db.session.scalar(select(func.count()).select_from(Signature)) == 1


def test_signing_again_before_confirming_replaces_the_details(make_signup, keys, org_id):
    make_signup(name="Mallory Made-Up", sector="policing", organisation_id=org_id("neu"), postcode_outward="E1")
    outcome = make_signup(name="Ada Lovelace", sector="health", organisation_id=org_id("unison"), source="leaflet")
    assert outcome is SignOutcome.CONFIRMATION_RESENT
    signature = only_signature()
    assert keys.cipher.decrypt(signature.name_encrypted) == "Ada Lovelace"
    assert (signature.sector.slug, signature.organisation.slug) == ("health", "unison")
    assert (signature.postcode_outward, signature.source) == (None, "leaflet")
    assert (signature.consent_updates, signature.consent_share_union) == (False, False)
    assert queued_kinds() == ["confirm", "confirm"]


def test_details_are_replaced_even_once_the_reminders_run_out(app, make_signup, keys):
    cap = app.config["MAIL_MAX_PER_SIGNATURE"]
    for _ in range(cap):
        make_signup(name="Mallory Made-Up")
    assert make_signup(name="Ada Lovelace", sector="health") is SignOutcome.EMAIL_LIMIT_REACHED
    signature = only_signature()
    assert keys.cipher.decrypt(signature.name_encrypted) == "Ada Lovelace" and signature.sector.slug == "health"
    assert len(queued_kinds()) == cap


def test_replacing_a_pending_signatures_sector_and_union_moves_no_count(make_signup, keys, org_id):
    make_signup(sector="policing", organisation_id=org_id("neu"))
    make_signup(sector="health", organisation_id=org_id("unison"))
    counts = get_counts(db.session)
    assert (counts.total, counts.sector("policing").count, counts.organisation("neu").count) == (0, 0, 0)
    confirm_as_offered(keys, only_signature())
    counts = get_counts(db.session)
    assert (counts.total, counts.sector("health").count, counts.organisation("unison").count) == (1, 1, 1)
    assert (counts.sector("policing").count, counts.organisation("neu").count) == (0, 0)


def test_a_held_sign_up_released_by_a_later_submission_takes_its_details(make_signup, keys, org_id):
    make_signup(name="Bot Name", sector="policing", organisation_id=org_id("neu"), hold_reason=HoldReason.HONEYPOT)
    assert make_signup(name="Ada Lovelace", sector="health") is SignOutcome.CONFIRMATION_RESENT
    signature = only_signature()
    assert (signature.status, signature.held_reason) == (SignatureStatus.PENDING, None)
    assert keys.cipher.decrypt(signature.name_encrypted) == "Ada Lovelace"
    assert (signature.sector.slug, signature.organisation) == ("health", None)
    assert queued_kinds() == ["confirm"]


def test_a_suspicious_submission_replaces_nothing(make_signup, keys):
    make_signup(name="Ada Lovelace")
    assert make_signup(name="Mallory", sector="policing", hold_reason=HoldReason.RATE_LIMITED) is SignOutcome.IGNORED
    signature = only_signature()
    assert keys.cipher.decrypt(signature.name_encrypted) == "Ada Lovelace" and signature.sector.slug == "education"


def test_confirmed_signer_who_signs_again_gets_already_signed_and_nothing_changes(make_signup, keys):
    make_signup(name="Ada Lovelace")
    confirm_as_offered(keys, only_signature(), consent_updates=True)
    assert make_signup(name="Mallory", sector="policing") is SignOutcome.ALREADY_SIGNED_NOTIFIED
    assert queued_kinds() == ["confirm", "already_signed"]
    signature = only_signature()
    assert keys.cipher.decrypt(signature.name_encrypted) == "Ada Lovelace"
    assert (signature.sector.slug, signature.consent_updates) == ("education", True)


def test_emails_per_signature_are_capped(app, make_signup):
    cap = app.config["MAIL_MAX_PER_SIGNATURE"]
    outcomes = [make_signup() for _ in range(cap + 5)]
    assert len(queued_kinds()) == cap
    assert outcomes[-1] is SignOutcome.EMAIL_LIMIT_REACHED


def test_confirming_records_the_owners_name_and_choices(make_signup, keys, org_id):
    make_signup(name="Mallory Made-Up", organisation_id=org_id("neu"))
    signature = only_signature()
    offered = as_offered(keys, signature)
    assert (offered.name, offered.consent_updates, offered.consent_share_union) == ("Mallory Made-Up", False, False)
    confirmed = confirm_as_offered(keys, signature, name=" Ada  Lovelace ", consent_share_union=True)
    assert keys.cipher.decrypt(confirmed.name_encrypted) == "Ada Lovelace"
    assert (confirmed.consent_updates, confirmed.consent_share_union) == (False, True)
    assert confirmed.consents_updated_at == confirmed.confirmed_at


def test_confirming_counts_once_and_is_idempotent(make_signup, keys, org_id):
    make_signup(organisation_id=org_id("neu"))
    signature = only_signature()
    confirm_as_offered(keys, signature)
    for _ in range(2):  # a second press, even with other choices, changes nothing
        again = confirm_as_offered(keys, signature, consent_updates=True, consent_share_union=True, name="Mallory")
        assert (again.consent_updates, again.consent_share_union) == (False, False)
        assert keys.cipher.decrypt(again.name_encrypted) == "Ada Lovelace"
    counts = get_counts(db.session)
    assert counts.total == 1
    assert counts.sector("education").count == 1
    assert counts.organisation("neu").count == 1
    assert counts.organisation("unison").count == 0
    assert only_signature().confirmed_at is not None


def test_details_replaced_after_the_page_was_shown_are_not_confirmed_unseen(make_signup, keys, org_id):
    make_signup(organisation_id=org_id("neu"))
    signature = only_signature()
    shown = as_offered(keys, signature)
    make_signup(sector="policing", organisation_id=org_id("unison"))
    with pytest.raises(DetailsChanged):
        confirm_signature(db.session, keys, token_for(keys, tokens.CONFIRM, signature), DAY, shown)
    assert only_signature().status is SignatureStatus.PENDING
    assert get_counts(db.session).total == 0


def test_a_name_the_form_would_refuse_is_refused_on_confirming_too(make_signup, keys):
    make_signup()
    with pytest.raises(InvalidInput, match="web address"):
        confirm_as_offered(keys, only_signature(), name="Ada see example.com")
    with pytest.raises(InvalidInput, match="invisible"):
        confirm_as_offered(keys, only_signature(), name="Ada\u200bLovelace")
    assert only_signature().status is SignatureStatus.PENDING


@pytest.mark.parametrize("name", ["Ada https://evil.example", "www.evil.example", "bit.ly/x", "Ada\u202eecalevoL"])
def test_the_service_refuses_names_the_form_would(make_signup, name):
    with pytest.raises(InvalidInput):
        make_signup(name=name)
    assert db.session.execute(select(Signature)).first() is None


def test_expired_confirmation_link_is_refused(make_signup, keys):
    make_signup()
    signature = only_signature()
    old = token_for(keys, tokens.CONFIRM, signature, now=time.time() - 2 * DAY)
    with pytest.raises(tokens.BadToken, match="expired"):
        confirm_signature(db.session, keys, old, DAY, as_offered(keys, signature))
    assert get_counts(db.session).total == 0


def test_manage_link_cannot_confirm_and_confirm_link_cannot_withdraw(make_signup, keys):
    make_signup()
    signature = only_signature()
    with pytest.raises(tokens.BadToken):
        confirm_signature(db.session, keys, token_for(keys, tokens.MANAGE, signature), DAY, as_offered(keys, signature))
    with pytest.raises(tokens.BadToken):
        withdraw_signature(db.session, keys, token_for(keys, tokens.CONFIRM, signature))


def test_withdrawal_erases_the_row_and_uncounts(make_signup, keys, org_id):
    make_signup(organisation_id=org_id("neu"))
    signature = only_signature()
    confirm_as_offered(keys, signature)
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
    confirm_as_offered(keys, second)
    withdraw_signature(db.session, keys, token_for(keys, tokens.MANAGE, first))
    assert get_counts(db.session).total == 1


def test_consents_change_and_share_needs_a_union(make_signature, keys):
    no_union = make_signature(email="a@example.com", status=SignatureStatus.CONFIRMED)
    with_union = make_signature(email="b@example.com", union="unison", status=SignatureStatus.CONFIRMED)
    with pytest.raises(ConsentRefused, match="not chosen a union"):
        update_consents(db.session, keys, token_for(keys, tokens.MANAGE, no_union), updates=True, share_union=True)
    updated = update_consents(
        db.session, keys, token_for(keys, tokens.MANAGE, with_union), updates=False, share_union=True
    )
    assert (updated.consent_updates, updated.consent_share_union) == (False, True)


def test_sharing_with_another_union_is_refused_by_the_service(make_signature, make_signup, keys, org_id):
    other = make_signature(email="a@example.com", union="other", status=SignatureStatus.CONFIRMED)
    with pytest.raises(ConsentRefused, match="on our list"):
        update_consents(db.session, keys, token_for(keys, tokens.MANAGE, other), updates=True, share_union=True)
    db.session.refresh(other)
    assert (other.consent_updates, other.consent_share_union) == (False, False)
    make_signup(email="b@example.com", organisation_id=org_id("other"))
    pending = db.session.execute(select(Signature).where(Signature.status == SignatureStatus.PENDING)).scalar_one()
    with pytest.raises(ConsentRefused, match="on our list"):
        confirm_as_offered(keys, pending, consent_share_union=True)
    assert get_counts(db.session).total == 1


def test_a_pending_signatures_choices_wait_for_confirmation(make_signature, keys):
    pending = make_signature(union="neu")
    manage = token_for(keys, tokens.MANAGE, pending)
    with pytest.raises(ConsentRefused, match="Confirm your signature first"):
        update_consents(db.session, keys, manage, updates=True, share_union=False)
    update_consents(db.session, keys, manage, updates=False, share_union=False)  # saying no is always fine
    db.session.refresh(pending)
    assert (pending.consent_updates, pending.consent_share_union) == (False, False)


def test_an_invalidated_signature_cannot_be_confirmed_again(make_signup, keys):
    from app.services import audit, moderation

    make_signup()
    signature = only_signature()
    confirm_as_offered(keys, signature)
    moderation.invalidate(db.session, audit.CLI, [signature.id], "spam")
    with pytest.raises(tokens.BadToken):
        confirm_as_offered(keys, signature)
    assert get_counts(db.session).total == 0


@pytest.mark.parametrize("status", [SignatureStatus.PENDING, SignatureStatus.HELD])
def test_the_schema_refuses_consent_before_confirmation(make_signature, status):
    from sqlalchemy.exc import IntegrityError

    signature = make_signature("early@example.com", status=status)
    signature.consent_updates = True
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
