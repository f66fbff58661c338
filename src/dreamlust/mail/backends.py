"""Where mail goes: files for development and tests, SMTP in production.

Log lines name a message by its Message-ID, never by its body: bodies carry
verification and password-reset tokens.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from pathlib import Path
from typing import Protocol

import aiosmtplib
from pydantic import SecretStr

from dreamlust.config import Settings
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.mail.message import OutgoingMail, to_email_message

logger = logging.getLogger(__name__)


class MailDeliveryError(Exception):
    """A mail could not be handed over to its backend."""


class Mailer(Protocol):
    async def send(self, mail: OutgoingMail) -> None: ...


class FileMailer:
    """Writes each message as `<UTC timestamp>-<UUIDv7>.eml`, so names sort by time.

    A message is written to a hidden temporary file and renamed into place, so a reader
    watching the directory never sees half a message. Files are readable by the owner
    only, as they hold live tokens.
    """

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender

    async def send(self, mail: OutgoingMail) -> None:
        message = to_email_message(mail, sender=self.sender)
        name = f"{utcnow():%Y%m%dT%H%M%S%fZ}-{new_id()}.eml"
        try:
            path = await asyncio.to_thread(self._write, name, bytes(message))
        except OSError as exc:
            logger.error("could not write mail %s: %s", message["Message-ID"], exc)
            raise MailDeliveryError(f"could not write mail to {self.directory}: {exc}") from exc
        logger.info("wrote mail %s to %s", message["Message-ID"], path)

    def _write(self, name: str, content: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(content)
            target = self.directory / name
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return target


class SmtpMailer:
    """Delivers through an SMTP relay.

    `use_tls` (implicit TLS, usually port 465) wins over `starttls`. With `starttls` a
    server that does not offer STARTTLS is an error rather than a plain-text fallback;
    with neither, the connection stays in plain text even if the server offers it.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = True,
        use_tls: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.username = username
        self.password = password
        self.starttls = starttls and not use_tls
        self.use_tls = use_tls
        self.timeout = timeout

    async def send(self, mail: OutgoingMail) -> None:
        message = to_email_message(mail, sender=self.sender)
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password.get_secret_value() if self.password else None,
                start_tls=self.starttls,
                use_tls=self.use_tls,
                timeout=self.timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
            logger.error(
                "could not deliver mail %s via %s:%d: %s",
                message["Message-ID"],
                self.host,
                self.port,
                reason,
            )
            raise MailDeliveryError(
                f"could not deliver mail via SMTP {self.host}:{self.port}: {reason}"
            ) from exc
        logger.info("sent mail %s via %s:%d", message["Message-ID"], self.host, self.port)


def create_mailer(settings: Settings) -> Mailer:
    if settings.mail_backend == "smtp":
        return SmtpMailer(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            use_tls=settings.smtp_use_tls,
            timeout=settings.smtp_timeout_seconds,
        )
    return FileMailer(settings.mail_dir, settings.mail_from)
