"""A small platform built with the factories, whose exact counters are known by hand."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.counters.definitions import COUNTERS
from dreamlust.db import INCLUDE_DELETED, Database
from dreamlust.kit.clock import utcnow
from dreamlust.models import Comment, Content, Follow, Like, PlaylistItem, User
from dreamlust.models.enums import ContentStatus, SubscriptionStatus
from tests.fixtures.comments import make_comment
from tests.fixtures.factories import (
    make_content,
    make_creator,
    make_playlist,
    make_subscription,
    make_tag,
    make_user,
    view_of,
)

Stored = dict[tuple[str, uuid.UUID], int]


@dataclass(frozen=True)
class World:
    """The ids the tests corrupt, and every counter's exact value by owner id."""

    star: uuid.UUID
    newcomer: uuid.UUID
    clip: uuid.UUID
    removed_clip: uuid.UUID
    other_clip: uuid.UUID
    tombstone: uuid.UUID
    playlist: uuid.UUID
    popular_tag: uuid.UUID
    expected: dict[str, dict[uuid.UUID, int]]


async def build_world(session: AsyncSession) -> World:
    fan, friend, stranger = [await make_user(session) for _ in range(3)]
    star, newcomer = await make_creator(session), await make_creator(session)
    rare, popular, unused = [await make_tag(session) for _ in range(3)]
    clip = await make_content(session, star, tags=[rare, popular])
    removed_clip = await make_content(session, star, tags=[rare], deleted_at=utcnow())
    draft = await make_content(session, star, status=ContentStatus.DRAFT, tags=[popular])
    other_clip = await make_content(session, newcomer)

    for content, viewers in ((clip, [fan, friend, None]), (removed_clip, [fan, None])):
        for viewer in viewers:
            session.add(view_of(content, viewer))
    session.add(view_of(other_clip, stranger))
    for content, user in ((clip, fan), (clip, friend), (removed_clip, stranger), (other_clip, fan)):
        session.add(Like(content_id=content.id, user_id=user.id))
    for creator, user in ((star, fan), (star, friend), (newcomer, stranger)):
        session.add(Follow(creator_id=creator.id, user_id=user.id))
    await make_subscription(session, fan, star)
    await make_subscription(session, friend, star, status=SubscriptionStatus.CANCELED)
    await make_subscription(session, stranger, newcomer)
    await make_subscription(session, friend, newcomer, status=SubscriptionStatus.EXPIRED)

    thread = await _comment(session, clip, fan)
    await _comment(session, clip, friend, parent=thread)
    await _comment(session, clip, stranger, parent=thread, deleted=True)
    tombstone = await _comment(session, clip, friend, deleted=True)
    await _comment(session, clip, fan, parent=tombstone)
    lonely = await _comment(session, clip, stranger)
    await _comment(session, other_clip, fan, deleted=True)

    playlist = await make_playlist(session, fan)
    empty = await make_playlist(session, friend)
    dropped = await make_playlist(session, stranger, deleted_at=utcnow())
    for position, content in enumerate((clip, other_clip)):
        session.add(PlaylistItem(playlist_id=playlist.id, content_id=content.id, position=position))
    session.add(PlaylistItem(playlist_id=dropped.id, content_id=clip.id, position=0))
    await session.flush()

    every_content = (clip, removed_clip, draft, other_clip)
    expected = {
        "creators.follower_count": {star.id: 2, newcomer.id: 1},
        # Live subscriptions: the cancelled one still runs to its period end.
        "creators.subscriber_count": {star.id: 2, newcomer.id: 1},
        # The removed clip is deleted and the draft unpublished.
        "creators.content_count": {star.id: 1, newcomer.id: 1},
        # Deleted content keeps counting in its creator's totals.
        "creators.total_views": {star.id: 5, newcomer.id: 1},
        "creators.total_likes": {star.id: 3, newcomer.id: 1},
        "content.view_count": {clip.id: 3, removed_clip.id: 2, draft.id: 0, other_clip.id: 1},
        "content.like_count": {clip.id: 2, removed_clip.id: 1, draft.id: 0, other_clip.id: 1},
        # The thread, its live reply, the reply under the tombstone and the lonely one.
        "content.comment_count": dict.fromkeys((c.id for c in every_content), 0) | {clip.id: 4},
        "comments.reply_count": {thread.id: 1, tombstone.id: 1, lonely.id: 0},
        "playlists.item_count": {playlist.id: 2, empty.id: 0, dropped.id: 1},
        # The removed clip no longer counts; the draft does.
        "tags.usage_count": {rare.id: 1, popular.id: 2, unused.id: 0},
        # No reports here: tests/moderation/test_recount.py has them.
        "moderation_cases.report_count": {},
        "moderation_cases.score": {},
        "reporter_records.closed_reports": {},
        "reporter_records.upheld_reports": {},
    }
    return World(
        star=star.id,
        newcomer=newcomer.id,
        clip=clip.id,
        removed_clip=removed_clip.id,
        other_clip=other_clip.id,
        tombstone=tombstone.id,
        playlist=playlist.id,
        popular_tag=popular.id,
        expected=expected,
    )


async def _comment(
    session: AsyncSession,
    content: Content,
    author: User,
    *,
    parent: Comment | None = None,
    deleted: bool = False,
) -> Comment:
    return await make_comment(
        session, content, author, parent=parent, deleted_at=utcnow() if deleted else None
    )


async def stored_counters(database: Database) -> Stored:
    """Every counter of every row, deleted rows included, read in a transaction of its own."""
    stored: Stored = {}
    async with database.transaction(write=False) as session:
        for counter in COUNTERS:
            key = getattr(counter.owner, counter.owner_key)
            rows = await session.execute(
                select(key, counter.column), execution_options={INCLUDE_DELETED: True}
            )
            stored |= {(counter.name, owner_id): value for owner_id, value in rows}
    return stored


async def set_counter(database: Database, name: str, owner_id: uuid.UUID, value: int) -> None:
    """Corrupt one counter with a direct UPDATE, behind the services' backs."""
    counter = next(counter for counter in COUNTERS if counter.name == name)
    async with database.transaction() as session:
        await session.execute(
            update(counter.owner)
            .where(getattr(counter.owner, counter.owner_key) == owner_id)
            .values({counter.column: value})
        )


async def value_of(database: Database, name: str, owner_id: uuid.UUID) -> int:
    return (await stored_counters(database))[(name, owner_id)]
