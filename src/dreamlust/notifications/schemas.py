"""Notifications as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from dreamlust.kit.schemas import Input, LongText, Schema, SingleLine, Url
from dreamlust.models.enums import NotificationType, UserRole
from dreamlust.users.preferences import Delivery


class NotificationRead(Schema):
    id: uuid.UUID
    type: NotificationType
    title: str
    message: str | None
    link: str | None
    is_read: bool
    read_at: datetime | None
    details: dict[str, Any] | None = Field(serialization_alias="metadata")
    created_at: datetime


class UnreadCount(Schema):
    unread: int


class ReadAll(Schema):
    marked_read: int


class AnnouncementCreate(Input):
    """A system announcement, to everyone or to everyone of one role."""

    title: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SingleLine
    ]
    message: LongText | None = None
    link: Url | None = None
    role: UserRole | None = None


class AnnouncementRead(Schema):
    id: uuid.UUID
    title: str
    role: UserRole | None
    created_at: datetime


class Unsubscribed(Schema):
    """The setting an unsubscribe link stopped e-mails of, and how it is delivered now."""

    setting: str
    delivery: Delivery
