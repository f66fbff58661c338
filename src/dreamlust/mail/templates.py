"""The mails of the account flows and of notifications, as plain text with a simple html
alternative."""

from __future__ import annotations

from html import escape

from dreamlust.mail.message import OutgoingMail


def verification_mail(to: str, username: str, link: str) -> OutgoingMail:
    text = (
        f"Hi {username},\n\n"
        "please confirm your e-mail address by opening this link:\n\n"
        f"{link}\n\n"
        "If you did not create a dreamlust account, you can ignore this mail.\n"
    )
    html = _html(
        f"Hi {escape(username)},",
        "please confirm your e-mail address by opening this link:",
        _link(link),
        "If you did not create a dreamlust account, you can ignore this mail.",
    )
    return OutgoingMail(to=to, subject="Confirm your e-mail address", text=text, html=html)


def password_reset_mail(to: str, username: str, link: str, expires_minutes: int) -> OutgoingMail:
    text = (
        f"Hi {username},\n\n"
        "someone asked to reset the password of your dreamlust account. "
        f"To choose a new one, open this link within {expires_minutes} minutes:\n\n"
        f"{link}\n\n"
        "If it was not you, ignore this mail: your password stays as it is.\n"
    )
    html = _html(
        f"Hi {escape(username)},",
        "someone asked to reset the password of your dreamlust account. "
        f"To choose a new one, open this link within {expires_minutes} minutes:",
        _link(link),
        "If it was not you, ignore this mail: your password stays as it is.",
    )
    return OutgoingMail(to=to, subject="Reset your dreamlust password", text=text, html=html)


def notification_mail(
    to: str,
    *,
    title: str,
    message: str | None,
    link: str | None,
    unsubscribe_link: str,
    topic: str,
) -> OutgoingMail:
    """A notification by e-mail, with one-click unsubscribe (RFC 8058) from its type."""
    paragraphs = [title] + ([message] if message else [])
    text = "\n\n".join(paragraphs) + "\n\n"
    html_paragraphs = [escape(paragraph) for paragraph in paragraphs]
    if link is not None:
        text += f"{link}\n\n"
        html_paragraphs.append(_link(link))
    text += f"To stop these e-mails about {topic}, open {unsubscribe_link}\n"
    html_paragraphs.append(
        f'<small><a href="{escape(unsubscribe_link)}">Stop these e-mails about '
        f"{escape(topic)}</a></small>"
    )
    return OutgoingMail(
        to=to,
        subject=title,
        text=text,
        html=_html(*html_paragraphs),
        headers=(
            ("List-Unsubscribe", f"<{unsubscribe_link}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ),
    )


def _link(url: str) -> str:
    return f'<a href="{escape(url)}">{escape(url)}</a>'


def _html(*paragraphs: str) -> str:
    """Paragraphs must already be escaped."""
    body = "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    return f'<!doctype html>\n<html lang="en">\n<body>\n{body}\n</body>\n</html>\n'
