"""The SMTP backend talks to a real server on loopback and reports failures as one error."""

from __future__ import annotations

import asyncio
import logging
from email import message_from_bytes, policy

import pytest

from dreamlust.mail import MailDeliveryError, SmtpMailer, create_mailer, password_reset_mail
from tests.mail.conftest import LOOPBACK, SmtpServer, free_port, mail_settings

LINK = "https://dreamlust.example/reset?token=secret-token"
MAIL = password_reset_mail("ada@example.com", "Ada", LINK, expires_minutes=60)


def smtp_mailer(port: int, **overrides: object) -> SmtpMailer:
    defaults: dict[str, object] = {
        "mail_backend": "smtp",
        "mail_from": "dreamlust <no-reply@dreamlust.example>",
        "smtp_host": LOOPBACK,
        "smtp_port": port,
        "smtp_starttls": False,
        "smtp_timeout_seconds": 5.0,
    }
    settings = mail_settings(**(defaults | overrides))
    mailer = create_mailer(settings)
    assert isinstance(mailer, SmtpMailer)
    return mailer


async def test_a_mail_reaches_the_smtp_server(smtp_server: SmtpServer) -> None:
    await smtp_mailer(smtp_server.port).send(MAIL)

    [envelope] = smtp_server.received
    assert envelope.mail_from == "no-reply@dreamlust.example"
    assert envelope.rcpt_tos == ["ada@example.com"]
    assert isinstance(envelope.content, bytes)
    message = message_from_bytes(envelope.content, policy=policy.default)
    assert message["From"] == "dreamlust <no-reply@dreamlust.example>"
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Reset your dreamlust password"
    assert message["Message-ID"] is not None
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    assert LINK in text.get_content()
    assert smtp_server.logins == []


async def test_configured_credentials_are_used_to_log_in(smtp_server: SmtpServer) -> None:
    mailer = smtp_mailer(smtp_server.port, smtp_username="relay", smtp_password="relay-password")

    await mailer.send(MAIL)

    assert smtp_server.logins == [("relay", "relay-password")]
    assert len(smtp_server.received) == 1


async def test_an_unreachable_server_is_a_delivery_error_that_keeps_the_body_out_of_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="dreamlust.mail")

    with pytest.raises(MailDeliveryError, match=f"SMTP {LOOPBACK}"):
        await smtp_mailer(free_port()).send(MAIL)

    assert "could not deliver mail" in caplog.text
    assert "secret-token" not in caplog.text


async def test_a_refused_recipient_is_a_delivery_error(smtp_server: SmtpServer) -> None:
    smtp_server.refused_recipients.add("ada@example.com")

    with pytest.raises(MailDeliveryError, match="SMTPRecipientsRefused"):
        await smtp_mailer(smtp_server.port).send(MAIL)
    assert smtp_server.received == []


async def test_a_silent_server_times_out_as_a_delivery_error() -> None:
    async def never_greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()

    server = await asyncio.start_server(never_greet, LOOPBACK, 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        with pytest.raises(MailDeliveryError, match="Timeout"):
            await smtp_mailer(port, smtp_timeout_seconds=0.2).send(MAIL)


async def test_required_starttls_is_not_silently_skipped(smtp_server: SmtpServer) -> None:
    with pytest.raises(MailDeliveryError, match="STARTTLS"):
        await smtp_mailer(smtp_server.port, smtp_starttls=True).send(MAIL)
    assert smtp_server.received == []
