"""Where rendered mail goes: an SMTP server, or .eml files in development; free of Flask."""

from __future__ import annotations

import logging
import os
import re
import smtplib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.services.mime import OutgoingMail

log = logging.getLogger(__name__)

_CRLF = re.compile(rb"\r?\n")


class TemporaryFailure(Exception):
    """The mail server could not take the message now; try later."""


class PermanentFailure(Exception):
    """The mail server refused the message for good."""


class Transport(Protocol):
    def send(self, message: OutgoingMail) -> None:
        """Hand the message on; raises TemporaryFailure or PermanentFailure."""

    def close(self) -> None:
        """Let go of any connection held between messages."""


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


class _Smtp(smtplib.SMTP):
    """smtplib.SMTP that notes when a message's DATA began: before that nothing was handed over."""

    data_started = False

    def data(self, msg):
        self.data_started = True
        return super().data(msg)


class SmtpTransport:
    """One SMTP connection kept open between messages; the server's answer decides temporary or permanent.

    A connection that has already carried mail may have been closed by the server in between
    (idle timeout, a per-connection message limit): if it turns out dead before the message's
    DATA began, nothing was handed over, so the message goes again once on a new connection.
    Any other failure closes the connection; the next message opens a new one.
    """

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: _Smtp | None = None
        self._sent_on_connection = 0

    def _connect(self) -> _Smtp:
        s = self.settings
        smtp = _Smtp(s.server, s.port, timeout=s.timeout_seconds)
        try:
            if s.use_tls:
                smtp.starttls()
            if s.username:
                smtp.login(s.username, s.password or "")
        except BaseException:
            smtp.close()
            raise
        self._sent_on_connection = 0
        return smtp

    def close(self) -> None:
        """Say goodbye to the server, if connected (e.g. when the queue is empty)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def send(self, message: OutgoingMail) -> None:
        for _ in range(2):
            reused = self._smtp is not None and self._sent_on_connection > 0
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                self._smtp.data_started = False
                self._smtp.sendmail(
                    message.sender,
                    [message.recipient],
                    _CRLF.sub(b"\r\n", message.data),  # smtplib sends bytes as they are
                    ["SMTPUTF8"] if message.smtputf8 else [],
                )
            except smtplib.SMTPRecipientsRefused as error:
                # smtplib has reset the transaction: the connection is still good.
                codes = [code for code, _ in error.recipients.values()]
                if all(500 <= code < 600 for code in codes):
                    raise PermanentFailure(f"recipient refused ({codes[0]})") from None
                raise TemporaryFailure(f"recipient deferred ({codes[0]})") from None
            except smtplib.SMTPResponseException as error:
                handed_over = self._smtp is not None and self._smtp.data_started
                self._drop()
                if error.smtp_code == 421 and reused and not handed_over:
                    continue  # the server was closing this connection; try a new one
                if 500 <= error.smtp_code < 600 and not isinstance(error, smtplib.SMTPAuthenticationError):
                    raise PermanentFailure(f"refused ({error.smtp_code})") from None
                raise TemporaryFailure(f"deferred ({error.smtp_code})") from None
            except (OSError, smtplib.SMTPException) as error:
                handed_over = self._smtp is not None and self._smtp.data_started
                self._drop()
                if reused and not handed_over:
                    continue  # a connection that died while idle
                raise TemporaryFailure(type(error).__name__) from None
            else:
                self._sent_on_connection += 1
                return
        raise TemporaryFailure("connection lost twice")


class FileTransport:
    """Development sink: each message becomes a .eml file in the directory."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def send(self, message: OutgoingMail) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / f"{time.time_ns()}.eml"
        # Created owner-only (0600): the messages hold names, addresses and secret links.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(bytes(message))
        log.info("mail written to %s", path)

    def close(self) -> None:
        pass


def transport_from_config(config: Mapping) -> Transport:
    """SMTP when MAIL_SERVER is set, otherwise the file sink in MAIL_SINK_DIR."""
    if config["MAIL_SERVER"]:
        return SmtpTransport(SmtpSettings.from_config(config))
    return FileTransport(config["MAIL_SINK_DIR"])
