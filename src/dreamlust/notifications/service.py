"""Notifications: emitting their causes, and reading and marking a user's own."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from dreamlust.db import Database
from dreamlust.errors import NotFound
from dreamlust.kit.after_commit import after_commit, run_jobs, take_jobs
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.models import Notification, NotificationEvent, User
from dreamlust.models.enums import Audience, NotificationType
from dreamlust.moderation import audit
from dreamlust.notifications import delivery, likes
from dreamlust.notifications.outlets import Outlets, outlets_of
from dreamlust.notifications.repository import (
    NEWEST_FIRST,
    NotificationRepository,
    forget_read_before,
)
from dreamlust.notifications.schemas import AnnouncementCreate


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


async def emit(session: AsyncSession, event: NotificationEvent) -> None:
    """Record a cause of notifications in the transaction of that cause. An event for
    one user is delivered as soon as the transaction has committed; any other is
    fanned out by the worker, in batches, never in the request."""
    session.add(event)
    await session.flush()
    if event.audience is Audience.USER:
        assert session.bind is not None
        deliver = functools.partial(_deliver_now, session.bind, outlets_of(session), event.id)
        after_commit(session, deliver)


async def _deliver_now(
    bind: AsyncEngine | AsyncConnection, outlets: Outlets, event_id: uuid.UUID
) -> None:
    """Deliver one event, in a transaction of its own on the engine of its cause."""
    async with AsyncSession(bind, expire_on_commit=False) as session:
        outlets.lend_to_session(session)
        async with session.begin():
            await delivery.deliver_batch(session, event_id)
        await run_jobs(take_jobs(session))


def to_user(
    kind: NotificationType,
    recipient_id: uuid.UUID,
    *,
    actor_id: uuid.UUID | None,
    title: str,
    link: str | None = None,
    message: str | None = None,
    details: dict[str, Any] | None = None,
) -> NotificationEvent:
    return NotificationEvent(
        type=kind,
        audience=Audience.USER,
        recipient_id=recipient_id,
        actor_id=actor_id,
        title=title,
        link=link,
        message=message,
        details=details,
    )


def to_followers(
    kind: NotificationType,
    creator_id: uuid.UUID,
    *,
    actor_id: uuid.UUID | None,
    title: str,
    link: str | None = None,
    details: dict[str, Any] | None = None,
) -> NotificationEvent:
    """An event for a creator's followers and live subscribers."""
    return NotificationEvent(
        type=kind,
        audience=Audience.FOLLOWERS,
        creator_id=creator_id,
        actor_id=actor_id,
        title=title,
        link=link,
        details=details,
    )


async def announce(
    session: AsyncSession, admin: User, body: AnnouncementCreate
) -> NotificationEvent:
    """A system announcement to everyone, or to everyone of one role; audited."""
    event = NotificationEvent(
        type=NotificationType.SYSTEM_ANNOUNCEMENT,
        audience=Audience.EVERYONE if body.role is None else Audience.ROLE,
        role=body.role,
        actor_id=admin.id,
        title=body.title,
        message=body.message,
        link=body.link,
    )
    await emit(session, event)
    await audit.record(
        session,
        actor_id=admin.id,
        action="announcement.send",
        target_type="notification_event",
        target_id=event.id,
        details={"title": body.title, "role": body.role.value if body.role else None},
    )
    return event


async def deliver_pending(database: Database) -> int:
    """The worker's job: every pending event, batch by batch, each batch a transaction
    of its own; how many notifications were made."""
    made = 0
    while True:
        async with database.transaction() as session:
            batch = await delivery.deliver_batch(session)
        if batch is None:
            return made
        made += batch


async def forget_old(session: AsyncSession, retention: timedelta) -> int:
    """The retention job: read notifications, and delivered events, older than
    `retention` are deleted; unread ones stay."""
    return await forget_read_before(session, utcnow() - retention)


async def tell_likes(database: Database, window: timedelta, now: datetime) -> int:
    """The worker's job: the likes made by `now`, batch by batch, into the creators'
    aggregated like notifications (`notifications.likes`); how many likes were read."""
    read = 0
    while True:
        async with database.transaction() as session:
            batch = await likes.notify_batch(session, now, window)
        if batch == 0:
            return read
        read += batch
