"""Delivery of queued mail: render each message at send time and hand it to SMTP or a file sink."""

from __future__ import annotations

import logging
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from flask import current_app, render_template
from sqlalchemy.orm import Session

from app.content_loader import pledge
from app.models import OutboxMessage, utcnow
from app.services import outbox, tokens
from app.services.keys import Keys
from app.services.organisers import PASSWORD_RESET_EMAIL, password_link_token
from app.services.signing import ALREADY_SIGNED_EMAIL, CONFIRM_EMAIL

log = logging.getLogger(__name__)

SUBJECTS = {
    CONFIRM_EMAIL: "Confirm your signature on the Care Don't Share pledge",
    ALREADY_SIGNED_EMAIL: "You have already signed the Care Don't Share pledge",
    PASSWORD_RESET_EMAIL: "Set a new password for your Care Don't Share organiser account",
}


class TemporaryFailure(Exception):
    """The mail server could not take the message now; try later."""


class PermanentFailure(Exception):
    """The mail server refused the message for good."""


class SmtpTransport:
    def __init__(self, config) -> None:
        self.config = config

    def send(self, message: EmailMessage) -> None:
        c = self.config
        try:
            with smtplib.SMTP(c["MAIL_SERVER"], c["MAIL_PORT"], timeout=c["MAIL_TIMEOUT_SECONDS"]) as smtp:
                if c["MAIL_USE_TLS"]:
                    smtp.starttls()
                if c["MAIL_USERNAME"]:
                    smtp.login(c["MAIL_USERNAME"], c["MAIL_PASSWORD"] or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise PermanentFailure(f"recipient refused ({codes[0]})") from None
            raise TemporaryFailure(f"recipient deferred ({codes[0]})") from None
        except smtplib.SMTPResponseException as error:
            if 500 <= error.smtp_code < 600 and not isinstance(error, smtplib.SMTPAuthenticationError):
                raise PermanentFailure(f"refused ({error.smtp_code})") from None
            raise TemporaryFailure(f"deferred ({error.smtp_code})") from None
        except (OSError, smtplib.SMTPException) as error:
            raise TemporaryFailure(type(error).__name__) from None


class FileTransport:
    """Development sink: each message becomes a .eml file under instance/mail/."""

    def __init__(self, directory: str) -> None:
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{time.time_ns()}.eml"
        path.write_bytes(bytes(message))
        log.info("mail written to %s", path)


def transport_from_config(config):
    return SmtpTransport(config) if config["MAIL_SERVER"] else FileTransport(config["MAIL_SINK_DIR"])


def build_message(message: OutboxMessage, keys: Keys) -> EmailMessage:
    """Render one queued message for its recipient (needs an app context for templates)."""
    if message.organiser is not None:
        return _organiser_message(message, keys)
    signature = message.signature
    site = current_app.config["SITE_URL"]
    manage_token = tokens.make_token(keys.token_key, tokens.MANAGE, signature.id, signature.token_nonce)
    links = {
        "manage_url": f"{site}/manage/{manage_token}",
        "unsubscribe_url": f"{site}/manage/{manage_token}/unsubscribe",
        "site_url": site,
    }
    if message.kind == CONFIRM_EMAIL:
        confirm_token = tokens.make_token(keys.token_key, tokens.CONFIRM, signature.id, signature.token_nonce)
        links["confirm_url"] = f"{site}/confirm/{confirm_token}"
    context = {
        "name": keys.cipher.decrypt(signature.name_encrypted),
        "sector": signature.sector,
        "pledge": pledge(),
        "max_age_days": current_app.config["CONFIRM_TOKEN_MAX_AGE_DAYS"],
        **links,
    }
    email = EmailMessage()
    email["Subject"] = SUBJECTS[message.kind]
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = keys.cipher.decrypt(signature.email_encrypted)
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = make_msgid(domain="care-dont-share")
    email["List-Unsubscribe"] = f"<{links['unsubscribe_url']}>"
    email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(render_template(f"emails/{message.kind}.txt", **context))
    email.add_alternative(render_template(f"emails/{message.kind}.html", **context), subtype="html")
    return email


def _organiser_message(message: OutboxMessage, keys: Keys) -> EmailMessage:
    organiser = message.organiser
    url = f"{current_app.config['SITE_URL']}/organiser/password/{password_link_token(keys, organiser)}"
    email = EmailMessage()
    email["Subject"] = SUBJECTS[message.kind]
    email["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    email["To"] = organiser.email
    email["Date"] = format_datetime(utcnow())
    email["Message-ID"] = make_msgid(domain="care-dont-share")
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(
        render_template(
            "emails/organiser_password_reset.txt", url=url, hours=current_app.config["PASSWORD_LINK_MAX_AGE_HOURS"]
        )
    )
    return email


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def deliver_due(session: Session, keys: Keys, transport, limit: int = 100) -> DeliveryReport:
    """Send due messages one at a time, each in its own transaction.

    A temporary failure reschedules the message with backoff and ends the run (the server
    is probably down; no point trying the rest now). Nothing is ever dropped silently.
    """
    config = current_app.config
    report = DeliveryReport()
    for _ in range(limit):
        message = outbox.claim_next_due(session)
        if message is None:
            break
        try:
            email = build_message(message, keys)
        except Exception as error:  # e.g. a key that no longer decrypts: keep it, retry later
            outbox.mark_retry(
                session,
                message,
                f"render: {type(error).__name__}",
                config["MAIL_RETRY_BASE_SECONDS"],
                config["MAIL_RETRY_MAX_SECONDS"],
            )
            log.error("mail id=%s could not be rendered: %s", message.id, type(error).__name__)
            report.retried += 1
            continue
        try:
            transport.send(email)
        except PermanentFailure as error:
            outbox.mark_failed(session, message, str(error))
            log.warning("mail id=%s refused permanently: %s", message.id, error)
            report.failed += 1
        except TemporaryFailure as error:
            when = outbox.mark_retry(
                session, message, str(error), config["MAIL_RETRY_BASE_SECONDS"], config["MAIL_RETRY_MAX_SECONDS"]
            )
            log.warning("mail id=%s deferred (%s); next attempt %s", message.id, error, when.isoformat())
            report.retried += 1
            break
        else:
            outbox.mark_sent(session, message)
            report.sent += 1
    return report
