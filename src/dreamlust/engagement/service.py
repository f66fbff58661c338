"""The rules of likes and follows: idempotent, counted exactly."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dreamlust.content.repository import LATEST, ContentRepository
from dreamlust.content.visibility import Viewer
from dreamlust.engagement.repository import (
    FOLLOWED_NEWEST_FIRST,
    LIKED_NEWEST_FIRST,
    FollowRepository,
    LikeRepository,
)
from dreamlust.errors import Conflict, NotFound
from dreamlust.kit.clock import utcnow
from dreamlust.kit.compiled_once import Record
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.kit.repository import Repository
from dreamlust.models import Creator, User
from dreamlust.models.enums import CreatorStatus, NotificationType
from dreamlust.notifications import service as notifications


async def like(session: AsyncSession, viewer: Viewer, content_id: uuid.UUID) -> int:
    """Like the item (again: nothing changes); its like count afterwards. 404 when the
    viewer may not open it."""
    return await _toggle(session, viewer, content_id, liked=True)


async def unlike(session: AsyncSession, viewer: Viewer, content_id: uuid.UUID) -> int:
    return await _toggle(session, viewer, content_id, liked=False)


async def _toggle(
    session: AsyncSession, viewer: Viewer, content_id: uuid.UUID, *, liked: bool
) -> int:
    count = await LikeRepository(session).toggle(viewer, content_id, liked=liked, now=utcnow())
    if count is None:
        raise NotFound("No such content.")
    return count


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
    session: AsyncSession, viewer: Viewer, page: PageRequest, paginator: Paginator
) -> KeysetPage[Record]:
    """Cards of what the viewer liked and may still open, most recently liked first."""
    assert viewer.user_id is not None
    stmt = LikeRepository(session).liked_cards(viewer)
    return await ContentRepository(session).card_list(stmt, LIKED_NEWEST_FIRST, page, paginator)


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
    session: AsyncSession, viewer: Viewer, page: PageRequest, paginator: Paginator
) -> KeysetPage[Record]:
    """Cards of the latest content the viewer may discover from the creators they follow."""
    assert viewer.user_id is not None
    query = FollowRepository(session).feed(viewer, page, paginator)
    return await ContentRepository(session).card_page(query, LATEST, page, paginator)
