"""An OutgoingMail becomes a standard message with the headers mail clients expect."""

from __future__ import annotations

import pytest

from dreamlust.mail import OutgoingMail, to_email_message

SENDER = "dreamlust <no-reply@dreamlust.example>"


def test_a_text_only_mail_is_a_single_plain_part() -> None:
    message = to_email_message(
        OutgoingMail(to="ada@example.com", subject="Hello", text="Hi Ada\n"), sender=SENDER
    )

    assert message["From"] == SENDER
    assert message["To"] == "ada@example.com"
    assert message["Subject"] == "Hello"
    assert message["Date"] is not None
    assert message["Message-ID"].endswith("@dreamlust.example>")
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "Hi Ada\n"


def test_html_becomes_an_alternative_to_the_text() -> None:
    mail = OutgoingMail(to="ada@example.com", subject="Hello", text="Hi\n", html="<p>Hi</p>\n")

    message = to_email_message(mail, sender=SENDER)

    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert text.get_content() == "Hi\n"
    assert html.get_content() == "<p>Hi</p>\n"


def test_every_message_gets_its_own_id() -> None:
    mail = OutgoingMail(to="ada@example.com", subject="Hello", text="Hi\n")

    first = to_email_message(mail, sender=SENDER)
    second = to_email_message(mail, sender=SENDER)

    assert first["Message-ID"] != second["Message-ID"]


def test_line_breaks_cannot_smuggle_headers_in() -> None:
    mail = OutgoingMail(to="ada@example.com\r\nBcc: eve@example.com", subject="Hi", text="Hi\n")

    with pytest.raises(ValueError, match="linefeed or carriage return"):
        to_email_message(mail, sender=SENDER)
