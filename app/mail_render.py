"""Queued mail as email: subjects, headers, links and templates for each kind of message (needs an app context)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.content_loader import pledge
from app.i18n import current_language, default_language, html_lang
from app.models import CampaignUpdate, Organiser, OutboxMessage, Signature, SignatureStatus, UpdateStatus, utcnow
from app.services import tokens
from app.services.keys import Keys
from app.services.mail_delivery import SkipMessage
from app.services.mime import OutgoingMail, compose
from app.services.organisers import PASSWORD_RESET_EMAIL, password_link_token
from app.services.reminders import REMINDER_EMAIL
from app.services.signing import ALREADY_SIGNED_EMAIL, CONFIRM_EMAIL
from app.services.updates import UPDATE_EMAIL, UPDATE_TEST_EMAIL, render_body, translation, unsubscribe_token
from app.services.work_verification import LINK_MAX_AGE_SECONDS, WORK_VERIFICATION_EMAIL, verification_email
from app.urls import absolute_url_for

SUBJECTS = {
    CONFIRM_EMAIL: _l("Confirm your signature on the Care Don't Share pledge"),
    ALREADY_SIGNED_EMAIL: _l("You have already signed the Care Don't Share pledge"),
    REMINDER_EMAIL: _l("Your signature on the Care Don't Share pledge is waiting for you to confirm it"),
    PASSWORD_RESET_EMAIL: _l("Set a new password for your Care Don't Share organiser account"),
    WORK_VERIFICATION_EMAIL: _l("Confirm your work email address for the Care Don't Share pledge"),
}


def build_message(message: OutboxMessage, keys: Keys) -> OutgoingMail:
    """Render one queued message for its recipient, in the signer's language (organisers' in the
    default one); raises if its data no longer decrypts."""
    signature = message.signature
    with force_locale(signature.language if signature is not None else default_language()):
        return _build_message(message, keys)


def _build_message(message: OutboxMessage, keys: Keys) -> OutgoingMail:
    if message.kind == UPDATE_TEST_EMAIL:
        return _update_test(message, message.organiser, message.campaign_update)
    if message.organiser is not None:
        return _password_reset(message, message.organiser, keys)
    if message.kind == UPDATE_EMAIL:
        return _update(message, message.signature, message.campaign_update, keys)
    if message.kind == WORK_VERIFICATION_EMAIL:
        return _work_verification(message, keys)
    return _signer_message(message, message.signature, keys)


def _compose(
    kind: str, to: str, text: str, html: str | None = None, subject: str | None = None, **headers: str
) -> OutgoingMail:
    return compose(
        sender=current_app.config["MAIL_DEFAULT_SENDER"],
        to=to,
        subject=subject or str(SUBJECTS[kind]),
        text=text,
        html=html,
        headers=headers,
    )


def _signer_message(message: OutboxMessage, signature: Signature, keys: Keys) -> OutgoingMail:
    manage_token = tokens.make_token(keys.token_key, tokens.MANAGE, signature.id, signature.token_nonce)
    links = {
        "manage_url": absolute_url_for("pledge.manage", token=manage_token),
        "unsubscribe_url": absolute_url_for("pledge.unsubscribe", token=manage_token),
        "site_url": absolute_url_for("pledge.index"),
    }
    if message.kind in (CONFIRM_EMAIL, REMINDER_EMAIL):
        confirm_token = tokens.make_token(keys.token_key, tokens.CONFIRM, signature.id, signature.token_nonce)
        links["confirm_url"] = absolute_url_for("pledge.confirm", token=confirm_token)
    context = {
        # Until its owner confirms it, a name is whatever anyone typed: mail greets no one by it.
        "name": keys.cipher.decrypt(signature.name_encrypted)
        if signature.status == SignatureStatus.CONFIRMED
        else None,
        "sector": signature.sector,
        "pledge": pledge(),
        "max_age_days": current_app.config["CONFIRM_TOKEN_MAX_AGE_DAYS"],
        **links,
    }
    if message.kind == REMINDER_EMAIL:
        context["days_left"] = link_days_left(signature.created_at, current_app.config)
    return _compose(
        message.kind,
        keys.cipher.decrypt(signature.email_encrypted),
        render_template(f"emails/{message.kind}.txt", **context),
        render_template(f"emails/{message.kind}.html", **context),
        **{
            "List-Unsubscribe": f"<{links['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )


def link_days_left(signed_at: datetime, config) -> int:
    """Whole days (at least 1) until a sign-up's confirmation stops working: its link's
    age limit or, sooner, the retention deletion of unconfirmed sign-ups."""
    days = min(config["CONFIRM_TOKEN_MAX_AGE_DAYS"], config["UNCONFIRMED_RETENTION_DAYS"])
    return max(1, (signed_at + timedelta(days=days) - utcnow()).days)


def _password_reset(message: OutboxMessage, organiser: Organiser, keys: Keys) -> OutgoingMail:
    context = {
        "url": absolute_url_for("organiser.set_password", token=password_link_token(keys, organiser)),
        "hours": current_app.config["PASSWORD_LINK_MAX_AGE_HOURS"],
    }
    return _compose(
        message.kind,
        organiser.email,
        render_template("emails/organiser_password_reset.txt", **context),
        render_template("emails/organiser_password_reset.html", **context),
        **{"Auto-Submitted": "auto-generated"},
    )


def _update(message: OutboxMessage, signature: Signature, item: CampaignUpdate, keys: Keys) -> OutgoingMail:
    """An update to one signer, if they still want it: checked now, not when it was queued."""
    if item.status == UpdateStatus.CANCELLED:
        raise SkipMessage("cancelled")
    if not (
        signature.status == SignatureStatus.CONFIRMED and signature.consent_updates and signature.anonymised_at is None
    ):
        raise SkipMessage("no longer wants updates")
    manage_token = tokens.make_token(keys.token_key, tokens.MANAGE, signature.id, signature.token_nonce)
    unsubscribe_url = absolute_url_for(
        "pledge.update_unsubscribe", update_id=item.id, token=unsubscribe_token(keys, item.id, signature)
    )
    return _update_email(
        item,
        keys.cipher.decrypt(signature.email_encrypted),
        name=keys.cipher.decrypt(signature.name_encrypted),
        manage_url=absolute_url_for("pledge.manage", token=manage_token),
        unsubscribe_url=unsubscribe_url,
    )


def _update_test(message: OutboxMessage, organiser: Organiser, item: CampaignUpdate) -> OutgoingMail:
    """The update as a signer would get it, to the organiser who asked; its links lead nowhere personal."""
    site = absolute_url_for("pledge.index")
    return _update_email(item, organiser.email, name=None, manage_url=site, unsubscribe_url=site, test=True)


def _update_email(
    item: CampaignUpdate, to: str, *, name: str | None, manage_url: str, unsubscribe_url: str, test: bool = False
) -> OutgoingMail:
    """The update's version in the language being rendered or, if it has none, its default words
    inside this language's greeting and footer (marked with their own lang in the HTML)."""
    text = translation(item, current_language())
    subject, body = (text.subject, text.body_markdown) if text else (item.subject, item.body_markdown)
    default = default_language()
    context = {
        "subject": subject,
        "name": name,
        "body_markdown": body,
        "body_html": render_body(body),
        "body_lang": html_lang(default) if text is None and current_language() != default else None,
        "manage_url": manage_url,
        "unsubscribe_url": unsubscribe_url,
        "site_url": absolute_url_for("pledge.index"),
    }
    return _compose(
        UPDATE_EMAIL,
        to,
        render_template("emails/update.txt", **context),
        render_template("emails/update.html", **context),
        subject=_("[Test] %(subject)s", subject=subject) if test else subject,
        **{
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
        },
    )


def _work_verification(message: OutboxMessage, keys: Keys) -> OutgoingMail:
    """The one-time link to a work address (issue 12). Written for a mailbox an employer may read:
    no name, no personal address, no manage link; the address is the message's own, encrypted."""
    email = verification_email(keys, message)
    context = {
        "sector": email.signature.sector,
        "verify_url": absolute_url_for("pledge.work_email_verify", token=email.token),
        "hours": LINK_MAX_AGE_SECONDS // 3600,
        "site_url": absolute_url_for("pledge.index"),
    }
    return _compose(
        WORK_VERIFICATION_EMAIL,
        email.to,
        render_template("emails/work_verification.txt", **context),
        render_template("emails/work_verification.html", **context),
        **{"Auto-Submitted": "auto-generated"},
    )
