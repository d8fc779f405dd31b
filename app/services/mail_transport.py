"""Where rendered mail goes: an SMTP server, or .eml files in development; free of Flask."""

from __future__ import annotations

import logging
import os
import smtplib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)


class TemporaryFailure(Exception):
    """The mail server could not take the message now; try later."""


class PermanentFailure(Exception):
    """The mail server refused the message for good."""


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None:
        """Hand the message on; raises TemporaryFailure or PermanentFailure."""


@dataclass(frozen=True)
class SmtpSettings:
    server: str
    port: int = 25
    timeout_seconds: float = 10
    use_tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_config(cls, config: Mapping) -> SmtpSettings:
        """The MAIL_* settings of an app config (or any mapping with those keys)."""
        return cls(
            server=config["MAIL_SERVER"],
            port=config["MAIL_PORT"],
            timeout_seconds=config["MAIL_TIMEOUT_SECONDS"],
            use_tls=config["MAIL_USE_TLS"],
            username=config["MAIL_USERNAME"],
            password=config["MAIL_PASSWORD"],
        )


class SmtpTransport:
    """One SMTP connection per message; the server's answer decides temporary or permanent."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, message: EmailMessage) -> None:
        s = self.settings
        try:
            with smtplib.SMTP(s.server, s.port, timeout=s.timeout_seconds) as smtp:
                if s.use_tls:
                    smtp.starttls()
                if s.username:
                    smtp.login(s.username, s.password or "")
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
    """Development sink: each message becomes a .eml file in the directory."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / f"{time.time_ns()}.eml"
        # Created owner-only (0600): the messages hold names, addresses and secret links.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(bytes(message))
        log.info("mail written to %s", path)


def transport_from_config(config: Mapping) -> Transport:
    """SMTP when MAIL_SERVER is set, otherwise the file sink in MAIL_SINK_DIR."""
    if config["MAIL_SERVER"]:
        return SmtpTransport(SmtpSettings.from_config(config))
    return FileTransport(config["MAIL_SINK_DIR"])
