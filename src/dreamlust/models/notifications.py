"""In-app notifications."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from dreamlust.kit.model import Base, CreatedAtMixin, IdMixin
from dreamlust.kit.types import JSONDocument, enum_type
from dreamlust.models.enums import NotificationType

# SQLite matches a partial index to a query by the terms as written.
_UNREAD = text("NOT is_read")
_UNREAD_ON_SQLITE = text("is_read = 0")


class Notification(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "notifications"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[NotificationType] = mapped_column(enum_type(NotificationType, "type"))
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2048))
    is_read: Mapped[bool] = mapped_column(default=False, server_default=false())
    read_at: Mapped[datetime | None]
    details: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONDocument)

    __table_args__ = (
        # A user's notifications newest first, all of them or the unread ones alone.
        Index("ix_notifications_user_id_created_at_id", "user_id", "created_at", "id"),
        Index(
            "ix_notifications_unread_user_id_created_at_id",
            "user_id",
            "created_at",
            "id",
            postgresql_where=_UNREAD,
            sqlite_where=_UNREAD_ON_SQLITE,
        ),
    )
