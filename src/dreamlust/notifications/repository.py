"""Every query on notifications."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, delete, false, func, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.repository import Repository
from dreamlust.models import Notification, NotificationEvent

NEWEST_FIRST = Ordering(
    scope="notifications:newest",
    keys=(SortKey(Notification.created_at), SortKey(Notification.id)),
)


class NotificationRepository(Repository[Notification]):
    model = Notification

    def of_user(self, user_id: uuid.UUID, *, unread_only: bool) -> Select[Notification]:
        stmt = select(Notification).where(Notification.user_id == user_id)
        if unread_only:  # as the partial index of unread rows says it
            stmt = stmt.where(Notification.is_read == false())
        return stmt

    async def unread_count(self, user_id: uuid.UUID) -> int:
        count = await self.session.scalar(
            select(func.count()).where(
                Notification.user_id == user_id, Notification.is_read == false()
            )
        )
        return int(count or 0)

    async def mark_read(
        self, user_id: uuid.UUID, now: datetime, notification_id: uuid.UUID | None = None
    ) -> int:
        """Mark the user's unread notifications read (one, when given); how many were."""
        stmt = (
            update(Notification)
            .where(Notification.user_id == user_id, Notification.is_read == false())
            .values(is_read=True, read_at=now)
            .returning(Notification.id)
        )
        if notification_id is not None:
            stmt = stmt.where(Notification.id == notification_id)
        return len((await self.session.execute(stmt)).all())


async def forget_read_before(session: AsyncSession, moment: datetime) -> int:
    """Delete the notifications read before `moment`, and the events delivered before it;
    how many notifications went."""
    gone = await session.execute(
        delete(Notification)
        .where(Notification.is_read == true(), Notification.read_at < moment)
        .returning(Notification.id)
    )
    await session.execute(delete(NotificationEvent).where(NotificationEvent.delivered_at < moment))
    return len(gone.all())


class NotificationEventRepository(Repository[NotificationEvent]):
    model = NotificationEvent

    async def next_pending(self, event_id: uuid.UUID | None = None) -> NotificationEvent | None:
        """The oldest event not delivered to all yet (or that one), locked; events other
        deliverers hold are skipped."""
        stmt = (
            select(NotificationEvent)
            .where(NotificationEvent.delivered_at.is_(None))
            .order_by(NotificationEvent.created_at, NotificationEvent.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        if event_id is not None:
            stmt = stmt.where(NotificationEvent.id == event_id)
        return await self.one_or_none(stmt)
