"""The account mails carry the link and keep user-provided values out of the markup."""

from __future__ import annotations

from dreamlust.mail import password_reset_mail, verification_mail

LINK = "https://dreamlust.example/verify?token=abc&next=/home"


def test_the_verification_mail_carries_the_link_in_both_parts() -> None:
    mail = verification_mail("ada@example.com", "ada", LINK)

    assert mail.to == "ada@example.com"
    assert mail.subject == "Confirm your e-mail address"
    assert "Hi ada," in mail.text
    assert LINK in mail.text
    assert mail.html is not None
    assert 'href="https://dreamlust.example/verify?token=abc&amp;next=/home"' in mail.html


def test_the_password_reset_mail_says_how_long_the_link_works() -> None:
    mail = password_reset_mail("ada@example.com", "ada", LINK, expires_minutes=45)

    assert mail.subject == "Reset your dreamlust password"
    assert LINK in mail.text
    assert "45 minutes" in mail.text
    assert mail.html is not None
    assert "45 minutes" in mail.html


def test_user_provided_values_are_escaped_in_html_only() -> None:
    username = '<script>alert("x")</script>'
    link = 'https://dreamlust.example/reset?t=1"><img src=x>'

    for mail in (
        verification_mail("eve@example.com", username, link),
        password_reset_mail("eve@example.com", username, link, expires_minutes=60),
    ):
        assert mail.html is not None
        assert "<script>" not in mail.html
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in mail.html
        assert '"><img' not in mail.html
        assert f"Hi {username}," in mail.text
        assert link in mail.text
