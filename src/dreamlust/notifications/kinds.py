"""Each type of notification: the preference (`preferences.notifications.<setting>`) that
says how it is delivered, and what its e-mails are about."""

from __future__ import annotations

from sqlalchemy import ColumnElement, func

from dreamlust.models import User
from dreamlust.models.enums import NotificationType
from dreamlust.users.preferences import Delivery, NotificationSettings

SETTING_OF = {
    NotificationType.NEW_FOLLOWER: "new_follower",
    NotificationType.NEW_SUBSCRIBER: "new_subscriber",
    NotificationType.NEW_COMMENT: "comments",
    NotificationType.NEW_REPLY: "comments",
    NotificationType.MENTION: "comments",
    NotificationType.NEW_LIKE: "likes",
    NotificationType.NEW_UPLOAD: "new_uploads",
    NotificationType.CONTENT_APPROVED: "reviews",
    NotificationType.CONTENT_REJECTED: "reviews",
    NotificationType.PAYMENT_RECEIVED: "payments",
    NotificationType.REPORT_RESOLVED: "reports",
    NotificationType.SYSTEM_ANNOUNCEMENT: "announcements",
}

TOPICS = {
    "new_follower": "new followers",
    "new_subscriber": "new subscribers",
    "comments": "comments and replies",
    "likes": "likes",
    "new_uploads": "new uploads",
    "reviews": "reviews of your content",
    "payments": "payments",
    "reports": "your reports",
    "announcements": "announcements",
}


def delivery_of(kind: NotificationType) -> ColumnElement[str]:
    """How each user wants this type delivered, as SQL (a `Delivery` value)."""
    setting = SETTING_OF[kind]
    default = NotificationSettings.model_fields[setting].default
    assert isinstance(default, Delivery)
    stored = User.preferences["notifications"][setting].as_string()
    return func.coalesce(stored, default.value)


def emails_allowed() -> ColumnElement[bool]:
    """Whether the user takes e-mail at all: a verified address, mail not switched off."""
    switch = User.preferences["notifications"]["email"].as_boolean()
    return User.email_verified & func.coalesce(switch, True)
