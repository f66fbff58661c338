"""The file backend leaves one readable .eml per message in the mail directory."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from dreamlust.mail import FileMailer, MailDeliveryError, create_mailer, verification_mail
from tests.mail.conftest import mail_settings

LINK = "https://dreamlust.example/verify?token=secret-token"


def read_mail(path: Path) -> EmailMessage:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def eml_files(directory: Path) -> list[Path]:
    return sorted(directory.iterdir())


async def test_a_sent_mail_is_written_as_a_parseable_eml_file(mail_dir: Path) -> None:
    mailer = create_mailer(mail_settings(mail_backend="file", mail_dir=mail_dir))
    assert isinstance(mailer, FileMailer)

    await mailer.send(verification_mail("ada@example.com", "Ada", LINK))

    [path] = eml_files(mail_dir)
    assert path.suffix == ".eml"
    assert path.stat().st_mode & 0o077 == 0, "mail files hold live tokens: owner only"
    message = read_mail(path)
    assert message["From"] == "dreamlust <no-reply@dreamlust.local>"
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Confirm your e-mail address"
    assert message["Date"] is not None
    assert message["Message-ID"] is not None
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert LINK in text.get_content()
    assert LINK in html.get_content()


async def test_each_mail_gets_its_own_file_in_sending_order(mail_dir: Path) -> None:
    mailer = FileMailer(mail_dir, "dreamlust <no-reply@dreamlust.example>")

    for number in range(5):
        await mailer.send(verification_mail(f"user{number}@example.com", "someone", LINK))

    paths = eml_files(mail_dir)
    assert len(paths) == 5
    assert all(path.suffix == ".eml" for path in paths)
    recipients = [read_mail(path)["To"] for path in paths]
    assert recipients == [f"user{number}@example.com" for number in range(5)]


async def test_a_directory_that_cannot_be_created_is_a_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    mailer = FileMailer(blocker / "mail", "dreamlust <no-reply@dreamlust.example>")

    with pytest.raises(MailDeliveryError, match="could not write mail"):
        await mailer.send(verification_mail("ada@example.com", "Ada", LINK))
