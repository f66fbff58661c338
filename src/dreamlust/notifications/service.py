"""Reading notifications: the user's own, newest first, and marking them read."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.errors import NotFound
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.models import Notification, User
from dreamlust.notifications.repository import NEWEST_FIRST, NotificationRepository


async def listed(
    session: AsyncSession, user: User, page: PageRequest, paginator: Paginator, *, unread: bool
) -> KeysetPage[Notification]:
    repository = NotificationRepository(session)
    stmt = repository.of_user(user.id, unread_only=unread)
    return await repository.page(stmt, NEWEST_FIRST, page, paginator)


async def unread_count(session: AsyncSession, user: User) -> int:
    return await NotificationRepository(session).unread_count(user.id)


async def read(session: AsyncSession, user: User, notification_id: uuid.UUID) -> Notification:
    """Mark one of the user's notifications read (again: nothing changes)."""
    repository = NotificationRepository(session)
    await repository.mark_read(user.id, utcnow(), notification_id)
    notification = await repository.get(notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound("No such notification.")
    await session.refresh(notification)
    return notification


async def read_all(session: AsyncSession, user: User) -> int:
    """Mark every unread notification of the user read; how many were unread."""
    return await NotificationRepository(session).mark_read(user.id, utcnow())
