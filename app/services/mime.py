"""Outgoing messages as wire-ready bytes: a text part and an optional HTML alternative; free of Flask.

The standard library's EmailMessage parses and refolds every header it is given and costs
about 2 ms a message here (bench/README.md, "Mail queue"), most of the worker's time. The
messages we send have a fixed shape, so they are assembled directly: headers we control,
bodies in quoted-printable (binascii, in C). An address outside ASCII goes through
EmailMessage and SMTPUTF8, as before.
"""

from __future__ import annotations

import binascii
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from functools import lru_cache


@dataclass(frozen=True)
class OutgoingMail:
    """A message ready for SMTP: envelope sender and recipient, and the message (smtplib sends it with CRLF)."""

    sender: str
    recipient: str
    data: bytes
    smtputf8: bool = False

    def __bytes__(self) -> bytes:
        return self.data


def _header_value(value: str) -> str:
    if value.isascii():
        return value
    return Header(value, "utf-8").encode(linesep="\n")


@lru_cache(maxsize=8)
def _sender(value: str) -> tuple[str, str]:
    """The From header (its display name encoded if it is not ASCII) and the envelope address."""
    name, address = parseaddr(value)
    return (formataddr((name, address), charset="utf-8") if name else address), address


def _line(name: str, value: str) -> str:
    # Unfolded, as the standard library leaves a long URL: values are at most a few hundred
    # characters (a subject is at most 200), within the 998 limit.
    return f"{name}: {value}\n"


def _part(subtype: str, body: str) -> bytes:
    encoded = binascii.b2a_qp(body.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'.encode()
        + encoded
    )


def compose(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict[str, str] | None = None,
) -> OutgoingMail:
    """A message with a Date and Message-ID, the given extra headers, and its body or bodies."""
    from_header, envelope_sender = _sender(sender)
    if not to.isascii():
        return _international(sender, to, subject, text, html, headers or {})
    lines = [
        _line("From", from_header),
        _line("To", to),
        _line("Subject", _header_value(subject)),
        _line("Date", format_datetime(datetime.now(UTC))),
        _line("Message-ID", make_msgid(domain="care-dont-share")),
        *(_line(name, _header_value(value)) for name, value in (headers or {}).items()),
        "MIME-Version: 1.0\n",
    ]
    if html is None:
        data = "".join(lines).encode() + _part("plain", text)
    else:
        # "=_" never occurs in quoted-printable, so the boundary cannot clash with a body.
        boundary = f"=_{secrets.token_hex(12)}"
        lines.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\n\n')
        data = b"".join(
            [
                "".join(lines).encode(),
                f"--{boundary}\n".encode(),
                _part("plain", text),
                f"\n--{boundary}\n".encode(),
                _part("html", html),
                f"\n--{boundary}--\n".encode(),
            ]
        )
    return OutgoingMail(sender=envelope_sender, recipient=to, data=data)


def _international(
    sender: str, to: str, subject: str, text: str, html: str | None, headers: dict[str, str]
) -> OutgoingMail:
    email = EmailMessage()
    email["Subject"] = subject
    email["From"] = sender
    email["To"] = to
    email["Date"] = format_datetime(datetime.now(UTC))
    email["Message-ID"] = make_msgid(domain="care-dont-share")
    for name, value in headers.items():
        email[name] = value
    email.set_content(text)
    if html is not None:
        email.add_alternative(html, subtype="html")
    return OutgoingMail(
        sender=parseaddr(sender)[1],
        recipient=to,
        data=email.as_bytes(policy=default.clone(utf8=True)),
        smtputf8=True,
    )
