"""Every query on likes and follows.

Adding is INSERT … ON CONFLICT DO NOTHING and removing is DELETE … RETURNING, so each
tells whether it changed anything; counters move only when a row really came or went,
and stay exact however many requests race.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.ids import new_id
from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.upsert import insert_or_ignore
from dreamlust.models import Content, Creator, Follow, Like

LIKED_NEWEST_FIRST = Ordering(
    scope="likes:newest",
    keys=(SortKey(Like.created_at.label("liked_at")), SortKey(Like.id.label("like_id"))),
)
FOLLOWED_NEWEST_FIRST = Ordering(
    scope="follows:newest",
    keys=(SortKey(Follow.created_at.label("followed_at")), SortKey(Follow.id.label("follow_id"))),
)


class LikeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, user_id: uuid.UUID, content_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            insert_or_ignore(self.session, Like)
            .values(id=new_id(), user_id=user_id, content_id=content_id)
            .returning(Like.id)
        )
        return result.first() is not None

    async def remove(self, user_id: uuid.UUID, content_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(Like)
            .where(Like.user_id == user_id, Like.content_id == content_id)
            .returning(Like.id)
        )
        return result.first() is not None

    async def count_on(self, content: Content, delta: int) -> int:
        """Move the item's and its creator's like counters; the item's new count."""
        await self.session.execute(
            update(Creator)
            .where(Creator.id == content.creator_id)
            .values(total_likes=Creator.total_likes + delta)
        )
        count = await self.session.scalar(
            update(Content)
            .where(Content.id == content.id)
            .values(like_count=Content.like_count + delta)
            .returning(Content.like_count)
        )
        return int(count or 0)

    def liked_by(self, user_id: uuid.UUID) -> Select[Any]:
        """The items a user liked, each with the like's own sort keys beside it."""
        return (
            select(Content, *(key.column for key in LIKED_NEWEST_FIRST.keys))
            .join(Like, Like.content_id == Content.id)
            .where(Like.user_id == user_id)
        )


class FollowRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, user_id: uuid.UUID, creator_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            insert_or_ignore(self.session, Follow)
            .values(id=new_id(), user_id=user_id, creator_id=creator_id)
            .returning(Follow.id)
        )
        return result.first() is not None

    async def remove(self, user_id: uuid.UUID, creator_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            delete(Follow)
            .where(Follow.user_id == user_id, Follow.creator_id == creator_id)
            .returning(Follow.id)
        )
        return result.first() is not None

    async def count_on(self, creator_id: uuid.UUID, delta: int) -> int:
        count = await self.session.scalar(
            update(Creator)
            .where(Creator.id == creator_id)
            .values(follower_count=Creator.follower_count + delta)
            .returning(Creator.follower_count)
        )
        return int(count or 0)

    def followed_by(self, user_id: uuid.UUID) -> Select[Any]:
        """The creators a user follows, each with the follow's own sort keys beside it."""
        return (
            select(Creator, *(key.column for key in FOLLOWED_NEWEST_FIRST.keys))
            .join(Follow, Follow.creator_id == Creator.id)
            .where(Follow.user_id == user_id)
        )

    def followed_creator_ids(self, user_id: uuid.UUID) -> Select[uuid.UUID]:
        return select(Follow.creator_id).where(Follow.user_id == user_id)
