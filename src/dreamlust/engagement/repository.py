"""Every query on likes and follows.

Adding is INSERT … ON CONFLICT DO NOTHING and removing is DELETE … RETURNING, so each
tells whether it changed anything; counters move only when a row really came or went,
and stay exact however many requests race.
"""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.cards import select_cards
from dreamlust.content.repository import LATEST, CardQuery, ContentRepository
from dreamlust.content.visibility import (
    AT_EXECUTION,
    VIEWER_ID,
    Viewer,
    listed,
    viewable_to_bound_viewer,
)
from dreamlust.kit.compiled_once import fetch_rows
from dreamlust.kit.ids import new_id
from dreamlust.kit.pagination import Ordering, PageRequest, Paginator, SortKey
from dreamlust.kit.repository import run_as_written
from dreamlust.kit.upsert import insert_or_ignore
from dreamlust.models import Content, Creator, Follow, Like
from dreamlust.users.preferences import NsfwPolicy

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

    async def toggle(
        self, viewer: Viewer, content_id: uuid.UUID, *, liked: bool, now: datetime
    ) -> int | None:
        """Add (`liked`) or remove the viewer's like of the item, moving the item's and its
        creator's like counters when a like really came or went; the item's like count
        afterwards, or None when the viewer may not open the item.

        On PostgreSQL this is one statement: the item read as the viewer may open it, the
        like inserted (ON CONFLICT DO NOTHING) or deleted (RETURNING), then the creator's
        counter and the item's, in that order (as views do, so that the two never wait on
        each other in opposite orders), each only when the step before changed a row. The
        statements are built once per kind of viewer and run with bound values: a toggle
        is a frequent write, and building them cost more than running them. The route
        runs it in autocommit (see the engagement router), and run again it changes
        nothing more, as `kit/compiled_once.py` asks of a statement that writes.
        """
        assert viewer.user_id is not None
        dialect = self.session.get_bind().dialect.name
        shape = (viewer.is_staff, viewer.nsfw_policy, viewer.is_adult)
        params = {_LIKED_CONTENT.key: content_id, VIEWER_ID.key: viewer.user_id, _NOW.key: now}
        if dialect != "postgresql":
            found = (await run_as_written(self.session, _likeable(*shape), params)).first()
            if found is None:
                return None
            if not await self._change(viewer.user_id, content_id, liked=liked):
                return int(found.like_count)
            return await self._count_on(content_id, found.creator_id, +1 if liked else -1)
        params = params | {_LIKE_ID.key: new_id()} if liked else params
        rows = await fetch_rows(self.session, _toggle(liked, *shape), params, built_once=True)
        return int(rows[0].like_count) if rows else None

    async def _change(self, user_id: uuid.UUID, content_id: uuid.UUID, *, liked: bool) -> bool:
        """Add or remove the like row; whether it came or went."""
        stmt: Any
        if liked:
            stmt = (
                insert_or_ignore(self.session, Like)
                .values(id=new_id(), user_id=user_id, content_id=content_id)
                .returning(Like.id)
            )
        else:
            stmt = (
                delete(Like)
                .where(Like.user_id == user_id, Like.content_id == content_id)
                .returning(Like.id)
            )
        return (await self.session.execute(stmt)).first() is not None

    async def _count_on(self, content_id: uuid.UUID, creator_id: uuid.UUID, delta: int) -> int:
        """Move the item's and its creator's like counters; the item's new count."""
        await self.session.execute(
            update(Creator)
            .where(Creator.id == creator_id)
            .values(total_likes=Creator.total_likes + delta)
        )
        count = await self.session.scalar(
            update(Content)
            .where(Content.id == content_id)
            .values(like_count=Content.like_count + delta)
            .returning(Content.like_count)
        )
        return int(count or 0)

    def liked_cards(self, viewer: Viewer) -> Select[Any]:
        """Cards of what the viewer liked and may still open, each with the like's own sort
        keys beside it."""
        return (
            ContentRepository(self.session)
            .viewable_cards(viewer)
            .add_columns(*(key.column for key in LIKED_NEWEST_FIRST.keys))
            .join(Like, Like.content_id == Content.id)
            .where(Like.user_id == viewer.user_id)
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

    def feed(self, viewer: Viewer, request: PageRequest, paginator: Paginator) -> CardQuery:
        """Cards of the latest content the viewer may discover from the creators they
        follow: read in order from the index of published content, kept to the followed
        creators."""
        dialect = self.session.get_bind().dialect.name
        statement = _feed(dialect, viewer.nsfw_policy, viewer.is_adult, bool(request.cursor))
        params = {_FOLLOWER.key: viewer.user_id} | paginator.bound_params(LATEST, request)
        return CardQuery(statement, params, built_once=True)


# The feed's statement is built once per dialect, kind of viewer and page (first or
# next); each request binds the follower, the cursor and the limit.
_FOLLOWER = bindparam("follower_id", type_=Follow.user_id.type)


@functools.cache
def _feed(dialect: str, nsfw_policy: NsfwPolicy, is_adult: bool, after: bool) -> Select[Any]:
    shape = Viewer(is_adult=is_adult, nsfw_policy=nsfw_policy)
    followed = select(Follow.creator_id).where(Follow.user_id == _FOLLOWER)
    statement = select_cards(dialect).where(
        listed(shape, AT_EXECUTION), Content.creator_id.in_(followed)
    )
    return Paginator.apply_bound(statement, LATEST, after=after)


_LIKED_CONTENT = bindparam("liked_content_id", type_=Content.id.type)
_LIKE_ID = bindparam("like_id", type_=Like.id.type)
_NOW = bindparam("liked_at", type_=Like.created_at.type)


@functools.cache
def _likeable(
    staff: bool, nsfw_policy: NsfwPolicy, is_adult: bool
) -> Select[uuid.UUID, uuid.UUID, int]:
    """The item, its creator and like count, if a signed-in viewer of this shape may open it."""
    shape = Viewer(is_adult=is_adult, nsfw_policy=nsfw_policy, is_staff=staff)
    return select(Content.id, Content.creator_id, Content.like_count).where(
        Content.id == _LIKED_CONTENT,
        Content.deleted_at.is_(None),
        viewable_to_bound_viewer(shape, _NOW),
    )


@functools.cache
def _toggle(liked: bool, staff: bool, nsfw_policy: NsfwPolicy, is_adult: bool) -> Select[Any]:
    """PostgreSQL's one statement of `LikeRepository.toggle`, built once per viewer shape."""
    visible = _likeable(staff, nsfw_policy, is_adult).cte("item")
    changed: Any
    if liked:
        changed = (
            postgresql.insert(Like)
            .from_select(
                ["id", "user_id", "content_id", "created_at"],
                select(_LIKE_ID, VIEWER_ID, visible.c.id, _NOW),
            )
            .on_conflict_do_nothing()
            .returning(Like.content_id)
        )
    else:
        changed = (
            delete(Like)
            .where(Like.user_id == VIEWER_ID, Like.content_id.in_(select(visible.c.id)))
            .returning(Like.content_id)
        )
    changed = changed.cte("changed_like")
    delta = +1 if liked else -1
    creator = (
        update(Creator)
        .where(
            Creator.id == select(visible.c.creator_id).scalar_subquery(),
            select(changed.c.content_id).exists(),
        )
        .values(total_likes=Creator.total_likes + delta, updated_at=_NOW)
        .returning(Creator.id)
        .cte("counted_creator")
    )
    counted = (
        update(Content)
        .where(Content.id == _LIKED_CONTENT, select(creator.c.id).exists())
        .values(like_count=Content.like_count + delta, updated_at=_NOW)
        .returning(Content.like_count)
        .cte("counted_content")
    )
    after = select(counted.c.like_count).scalar_subquery()
    like_count = func.coalesce(after, visible.c.like_count).label("like_count")
    return select(like_count).add_cte(changed, creator, counted)
