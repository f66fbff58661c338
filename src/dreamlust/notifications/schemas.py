"""Notifications as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import Field

from dreamlust.kit.schemas import Schema
from dreamlust.models.enums import NotificationType


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
