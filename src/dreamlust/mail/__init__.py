"""Outgoing e-mail: messages, templates and the backends that deliver them."""

from dreamlust.mail.backends import (
    FileMailer,
    MailDeliveryError,
    Mailer,
    SmtpMailer,
    create_mailer,
)
from dreamlust.mail.message import OutgoingMail, to_email_message
from dreamlust.mail.templates import notification_mail, password_reset_mail, verification_mail

__all__ = [
    "FileMailer",
    "MailDeliveryError",
    "Mailer",
    "OutgoingMail",
    "SmtpMailer",
    "create_mailer",
    "notification_mail",
    "password_reset_mail",
    "to_email_message",
    "verification_mail",
]
