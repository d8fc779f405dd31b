"""Queued mail as email: subjects, headers, links and templates for each kind of message (needs an app context)."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import current_app, render_template

from app.content_loader import pledge
from app.models import Organiser, OutboxMessage, Signature, SignatureStatus, utcnow
from app.services import tokens
from app.services.keys import Keys
from app.services.organisers import PASSWORD_RESET_EMAIL, password_link_token
from app.services.reminders import REMINDER_EMAIL
from app.services.signing import ALREADY_SIGNED_EMAIL, CONFIRM_EMAIL
from app.urls import absolute_url_for

SUBJECTS = {
    CONFIRM_EMAIL: "Confirm your signature on the Care Don't Share pledge",
    ALREADY_SIGNED_EMAIL: "You have already signed the Care Don't Share pledge",
    REMINDER_EMAIL: "Your signature on the Care Don't Share pledge is waiting for you to confirm it",
    PASSWORD_RESET_EMAIL: "Set a new password for your Care Don't Share organiser account",
}


def build_message(message: OutboxMessage, keys: Keys) -> EmailMessage:
    """Render one queued message for its recipient; raises if its data no longer decrypts."""
    if message.organiser is not None:
        return _password_reset(message, message.organiser, keys)
    return _signer_message(message, message.signature, keys)


def _envelope(kind: str, to: str) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = SUBJECTS[kind]
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = to
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = make_msgid(domain="care-dont-share")
    return email


def _signer_message(message: OutboxMessage, signature: Signature, keys: Keys) -> EmailMessage:
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
    email = _envelope(message.kind, keys.cipher.decrypt(signature.email_encrypted))
    email["List-Unsubscribe"] = f"<{links['unsubscribe_url']}>"
    email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(render_template(f"emails/{message.kind}.txt", **context))
    email.add_alternative(render_template(f"emails/{message.kind}.html", **context), subtype="html")
    return email


def link_days_left(signed_at: datetime, config) -> int:
    """Whole days (at least 1) until a sign-up's confirmation stops working: its link's
    age limit or, sooner, the retention deletion of unconfirmed sign-ups."""
    days = min(config["CONFIRM_TOKEN_MAX_AGE_DAYS"], config["UNCONFIRMED_RETENTION_DAYS"])
    return max(1, (signed_at + timedelta(days=days) - utcnow()).days)


def _password_reset(message: OutboxMessage, organiser: Organiser, keys: Keys) -> EmailMessage:
    email = _envelope(message.kind, organiser.email)
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(
        render_template(
            "emails/organiser_password_reset.txt",
            url=absolute_url_for("organiser.set_password", token=password_link_token(keys, organiser)),
            hours=current_app.config["PASSWORD_LINK_MAX_AGE_HOURS"],
        )
    )
    return email
