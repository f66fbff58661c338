"""The rules of likes and follows: idempotent, counted exactly."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dreamlust.content.repository import LATEST, READ_OPTIONS, ContentRepository
from dreamlust.content.visibility import Viewer, listed, viewable
from dreamlust.engagement.repository import (
    FOLLOWED_NEWEST_FIRST,
    LIKED_NEWEST_FIRST,
    FollowRepository,
    LikeRepository,
)
from dreamlust.errors import Conflict
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.kit.repository import Repository
from dreamlust.models import Content, Creator, User
from dreamlust.models.enums import CreatorStatus, NotificationType
from dreamlust.notifications import service as notifications


async def like(session: AsyncSession, user: User, content: Content) -> int:
    """Like the item (again: nothing changes); its like count afterwards."""
    likes = LikeRepository(session)
    if await likes.add(user.id, content.id):
        return await likes.count_on(content, +1)
    return content.like_count


async def unlike(session: AsyncSession, user: User, content: Content) -> int:
    likes = LikeRepository(session)
    if await likes.remove(user.id, content.id):
        return await likes.count_on(content, -1)
    return content.like_count


async def follow(session: AsyncSession, user: User, creator: Creator) -> int:
    """Follow the creator (again: nothing changes); their follower count afterwards."""
    if creator.user_id == user.id:
        raise Conflict("You cannot follow yourself.")
    follows = FollowRepository(session)
    if not await follows.add(user.id, creator.id):
        return creator.follower_count
    await notifications.emit(
        session,
        notifications.to_user(
            NotificationType.NEW_FOLLOWER,
            creator.user_id,
            actor_id=user.id,
            title=f"{user.display_name or user.username} started following you",
            link=f"/users/{user.username}",
            details={"follower_id": str(user.id)},
        ),
    )
    return await follows.count_on(creator.id, +1)


async def unfollow(session: AsyncSession, user: User, creator: Creator) -> int:
    follows = FollowRepository(session)
    if await follows.remove(user.id, creator.id):
        return await follows.count_on(creator.id, -1)
    return creator.follower_count


async def liked_content(
    session: AsyncSession,
    viewer: Viewer,
    now: datetime,
    page: PageRequest,
    paginator: Paginator,
) -> KeysetPage[Content]:
    """What the viewer liked and may still open, most recently liked first."""
    assert viewer.user_id is not None
    stmt = LikeRepository(session).liked_by(viewer.user_id).where(viewable(viewer, now))
    rows = await Repository(session).page_rows(
        stmt.options(*READ_OPTIONS), LIKED_NEWEST_FIRST, page, paginator
    )
    return rows.map(lambda row: row[0])


async def followed_creators(
    session: AsyncSession, user: User, page: PageRequest, paginator: Paginator
) -> KeysetPage[Creator]:
    """Approved creators the user follows, most recently followed first."""
    stmt = (
        FollowRepository(session)
        .followed_by(user.id)
        .where(Creator.status == CreatorStatus.APPROVED)
        .options(selectinload(Creator.categories))
    )
    rows = await Repository(session).page_rows(stmt, FOLLOWED_NEWEST_FIRST, page, paginator)
    return rows.map(lambda row: row[0])


async def feed(
    session: AsyncSession, viewer: Viewer, now: datetime, page: PageRequest, paginator: Paginator
) -> KeysetPage[Content]:
    """The latest content the viewer may discover from the creators they follow."""
    stmt = feed_statement(session, viewer, now)
    return await ContentRepository(session).page(stmt, LATEST, page, paginator)


def feed_statement(session: AsyncSession, viewer: Viewer, now: datetime) -> Select[Content]:
    """The feed's query, ordered and cut by the caller (`LATEST`): read in order from
    the index of published content, kept to the followed creators."""
    assert viewer.user_id is not None
    followed = FollowRepository(session).followed_creator_ids(viewer.user_id)
    return (
        ContentRepository(session)
        .select()
        .where(listed(viewer, now), Content.creator_id.in_(followed))
        .options(*READ_OPTIONS)
    )
