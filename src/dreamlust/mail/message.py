"""What the service sends, and how it becomes an RFC 5322 message."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from dreamlust.kit.clock import utcnow

_FALLBACK_DOMAIN = "localhost"


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def to_email_message(mail: OutgoingMail, *, sender: str) -> EmailMessage:
    """A multipart/alternative message when there is html, plain text otherwise.

    The default policy refuses line breaks in header values, so a crafted address or
    subject cannot smuggle extra headers in.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain=_sender_domain(sender))
    for name, value in mail.headers:
        message[name] = value
    message.set_content(mail.text)
    if mail.html is not None:
        message.add_alternative(mail.html, subtype="html")
    return message


def _sender_domain(sender: str) -> str:
    # make_msgid() would otherwise resolve the host's FQDN, a DNS lookup on every mail.
    _, address = parseaddr(sender)
    return address.rpartition("@")[2] or _FALLBACK_DOMAIN
