"""In-app notifications and the events they are delivered from."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from dreamlust.kit.model import Base, CreatedAtMixin, IdMixin
from dreamlust.kit.types import JSONDocument, enum_type
from dreamlust.models.enums import Audience, NotificationType, UserRole

# SQLite matches a partial index to a query by the terms as written.
_UNREAD = text("NOT is_read")
_UNREAD_ON_SQLITE = text("is_read = 0")
_PENDING = text("delivered_at IS NULL")


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
    # The event it was delivered for: a user gets one notification per event.
    event_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        Index("uq_notifications_event_id_user_id", "event_id", "user_id", unique=True),
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


class NotificationEvent(IdMixin, CreatedAtMixin, Base):
    """A cause of notifications (an outbox row), written in the transaction of its cause,
    so that it exists exactly when the cause does. Delivery turns it into one
    notification per recipient of its audience, in batches taken in the order of the
    recipients' ids: `delivered_up_to` is the last id done, `delivered_at` says all are.
    """

    __tablename__ = "notification_events"

    type: Mapped[NotificationType] = mapped_column(enum_type(NotificationType, "type"))
    audience: Mapped[Audience] = mapped_column(enum_type(Audience, "audience"))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who the audience is: one user, a creator's followers and subscribers, or a role.
    recipient_id: Mapped[uuid.UUID | None]
    creator_id: Mapped[uuid.UUID | None]
    role: Mapped[UserRole | None] = mapped_column(enum_type(UserRole, "role"))
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2048))
    details: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONDocument)
    delivered_up_to: Mapped[uuid.UUID | None]
    delivered_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ix_notification_events_pending",
            "created_at",
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        ),
    )
