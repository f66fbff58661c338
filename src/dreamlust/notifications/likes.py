"""Likes are told in aggregate: "Ann and 4 others liked Harbour" is one notification
per item, updated while it is unread and recent, not one row per like.

A like request does nothing for it (liking is a hot write path). The worker reads the
new likes in (created_at, id) order after its cursor, and in the same transaction moves
the cursor past them and adds them to the creators' notifications, so each like is
counted once even when workers race (they queue on the cursor's row) or one dies. It
reads only likes older than a few seconds: a like whose transaction commits later than
that after its creation could be passed over.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import false, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.ids import new_id
from dreamlust.kit.upsert import insert_or_ignore
from dreamlust.models import Content, Creator, JobCursor, Like, Notification, User
from dreamlust.models.enums import NotificationType, UserStatus
from dreamlust.notifications.kinds import delivery_of
from dreamlust.notifications.outlets import after_delivery
from dreamlust.users.preferences import Delivery

CURSOR = "notify-likes"
LAG = timedelta(seconds=5)
BATCH_SIZE = 1000


@dataclass
class _Likes:
    """The new likes of one item: its title, how many, and who liked it last."""

    title: str = ""
    count: int = 0
    last_liker: str = ""


async def notify_batch(session: AsyncSession, now: datetime, window: timedelta) -> int:
    """Tell the next batch of likes; how many likes were read."""
    cursor = await _cursor(session, now)
    likes = (await session.execute(_after(cursor, now))).all()
    if not likes:
        return 0
    recipients = await _recipients(session, {like.owner_id for like in likes})
    grouped: dict[tuple[uuid.UUID, uuid.UUID], _Likes] = defaultdict(_Likes)
    for like in likes:
        if like.owner_id == like.user_id or like.owner_id not in recipients:
            continue
        item = grouped[like.owner_id, like.content_id]
        item.title, item.count = like.title, item.count + 1
        item.last_liker = like.display_name or like.username
    for (owner_id, content_id), item in grouped.items():
        await _tell(session, owner_id, content_id, item, now, window)
    cursor.position_at, cursor.position_id = likes[-1].created_at, likes[-1].id
    await session.flush()
    after_delivery(session, [owner_id for owner_id, _ in grouped])
    return len(likes)


async def _cursor(session: AsyncSession, now: datetime) -> JobCursor:
    """The job's cursor, locked; a first run starts from now (old likes stay untold)."""
    await session.execute(
        insert_or_ignore(session, JobCursor).values(
            name=CURSOR, position_at=now - LAG, position_id=uuid.UUID(int=0)
        )
    )
    stmt = select(JobCursor).where(JobCursor.name == CURSOR).with_for_update()
    return (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one()


def _after(cursor: JobCursor, now: datetime) -> Any:
    return (
        select(
            Like.id,
            Like.created_at,
            Like.content_id,
            Like.user_id,
            Content.title,
            Creator.user_id.label("owner_id"),
            User.display_name,
            User.username,
        )
        .join(Content, Content.id == Like.content_id)
        .join(Creator, Creator.id == Content.creator_id)
        .join(User, User.id == Like.user_id)
        .where(
            tuple_(Like.created_at, Like.id) > tuple_(cursor.position_at, cursor.position_id),
            Like.created_at <= now - LAG,
        )
        .order_by(Like.created_at, Like.id)
        .limit(BATCH_SIZE)
    )


async def _recipients(session: AsyncSession, owners: set[uuid.UUID]) -> set[uuid.UUID]:
    """The creators who may hear of likes: active accounts that did not turn them off
    (likes are told in the app only)."""
    found = await session.scalars(
        select(User.id).where(
            User.id.in_(owners),
            User.status == UserStatus.ACTIVE,
            delivery_of(NotificationType.NEW_LIKE) != Delivery.OFF.value,
        )
    )
    return set(found)


async def _tell(
    session: AsyncSession,
    owner_id: uuid.UUID,
    content_id: uuid.UUID,
    item: _Likes,
    now: datetime,
    window: timedelta,
) -> None:
    current: Notification | None = await session.scalar(
        select(Notification)
        .where(
            Notification.user_id == owner_id,
            Notification.type == NotificationType.NEW_LIKE,
            Notification.is_read == false(),
            Notification.created_at >= now - window,
            Notification.details["content_id"].as_string() == str(content_id),
        )
        .order_by(Notification.created_at.desc())
        .limit(1)
        .with_for_update()
    )
    count = item.count + (int((current.details or {}).get("count", 0)) if current else 0)
    others = count - 1
    title = (
        f"{item.last_liker} liked {item.title}"
        if others == 0
        else f"{item.last_liker} and {others} other{'s' if others > 1 else ''} liked {item.title}"
    )
    details = {"content_id": str(content_id), "count": count}
    if current is None:
        session.add(
            Notification(
                id=new_id(),
                user_id=owner_id,
                type=NotificationType.NEW_LIKE,
                title=title,
                link=f"/content/{content_id}",
                details=details,
                created_at=now,
            )
        )
    else:
        current.title, current.details, current.created_at = title, details, now
