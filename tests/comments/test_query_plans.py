"""Every list of comments is read from an index that yields its rows in order: the database
never collects and sorts an item's comments, or a comment's replies, to cut a page.

The statements are built as the routes build them (repository query, then the paginator),
for the first page and for a page after a cursor, and explained as the session sends them.

They are explained over a long thread, with PostgreSQL's statistics gathered: on an empty
table PostgreSQL expects a parent to have a couple of replies, which it rightly finds
cheaper to fetch and sort than to read in order. SQLite plans by the schema alone.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.comments.repository import (
    OLDEST_FIRST,
    TOP_LEVEL,
    CommentRepository,
    TopLevelSort,
)
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import Ordering, PageRequest
from dreamlust.models import Comment
from dreamlust.runtime import Runtime
from tests.fixtures.comments import make_comment
from tests.fixtures.factories import make_content, make_creator, make_user
from tests.fixtures.plans import assert_read_in_order, query_plan

# The index that yields each ordering's rows in order, after the equality tests its query
# makes: the item (top-level comments only), or the parent comment.
IN_ORDER = {
    TOP_LEVEL["newest"].scope: {"ix_comments_top_level_newest"},
    TOP_LEVEL["top"].scope: {"ix_comments_top_level_top"},
    OLDEST_FIRST.scope: {"ix_comments_parent_id_created_at_id"},
}
THREAD_LENGTH = 200


@dataclass(frozen=True)
class Thread:
    """An item with a pinned comment, many top-level comments (a few deleted, one of them
    a tombstone with replies) and one comment with many replies."""

    content_id: uuid.UUID
    parent_id: uuid.UUID
    top_level: list[Comment]
    replies: list[Comment]


@pytest.fixture
async def thread(session: AsyncSession, backend: str) -> Thread:
    content = await make_content(session, await make_creator(session))
    authors = [await make_user(session) for _ in range(5)]
    start = utcnow() - timedelta(days=30)
    top_level = [
        Comment(
            content_id=content.id,
            user_id=authors[n % len(authors)].id,
            text=f"comment {n}",
            created_at=start + timedelta(minutes=n),
            like_count=n % 17,
            is_pinned=n == 7,
            deleted_at=start + timedelta(days=1) if n % 50 == 3 else None,
        )
        for n in range(THREAD_LENGTH)
    ]
    parent = top_level[3]  # deleted: a tombstone listed for its live replies
    parent.reply_count = THREAD_LENGTH
    session.add_all(top_level)
    await session.flush()
    replies = [
        Comment(
            content_id=content.id,
            user_id=authors[n % len(authors)].id,
            parent_id=parent.id,
            text=f"reply {n}",
            created_at=start + timedelta(days=2, minutes=n),
        )
        for n in range(THREAD_LENGTH)
    ]
    session.add_all(replies)
    await session.commit()
    if backend == "postgresql":
        await session.execute(text("ANALYZE comments"))
        await session.commit()
    return Thread(content.id, parent.id, top_level, replies)


def pages(runtime: Runtime, ordering: Ordering, rows: list[Comment]) -> list[PageRequest]:
    """The first page, and a page after a cursor (whose keys make a row-value comparison)
    in the middle of the list."""
    middle = sorted(rows, key=lambda row: tuple(ordering.values_of(row)))[len(rows) // 2]
    cursor = runtime.paginator.codec.encode(ordering, ordering.values_of(middle))
    return [PageRequest(), PageRequest(cursor=cursor)]


async def explain_each(
    session: AsyncSession,
    runtime: Runtime,
    ordering: Ordering,
    rows: list[Comment],
    build: Callable[[], Select[Any]],
) -> list[str]:
    plans = []
    for page in pages(runtime, ordering, rows):
        stmt = runtime.paginator.apply(build(), ordering, page)
        plans.append(await query_plan(session, stmt, subqueries=False))
    return plans


@pytest.mark.parametrize("sort", list(TOP_LEVEL))
async def test_an_items_top_level_comments_are_read_in_order_from_an_index(
    session: AsyncSession, runtime: Runtime, backend: str, thread: Thread, sort: TopLevelSort
) -> None:
    """GET /content/{id}/comments?sort=…: the pinned comment first, then the rest, with
    the tombstones of deleted comments that still have replies."""
    repository = CommentRepository(session)
    ordering = TOP_LEVEL[sort]

    plans = await explain_each(
        session,
        runtime,
        ordering,
        thread.top_level,
        lambda: repository.top_level(thread.content_id),
    )

    for plan in plans:
        assert_read_in_order(plan, "comments", IN_ORDER[ordering.scope], backend)


async def test_a_comments_replies_are_read_in_order_from_an_index(
    session: AsyncSession, runtime: Runtime, backend: str, thread: Thread
) -> None:
    """GET /comments/{id}/replies: oldest first."""
    repository = CommentRepository(session)

    plans = await explain_each(
        session, runtime, OLDEST_FIRST, thread.replies, lambda: repository.replies(thread.parent_id)
    )

    for plan in plans:
        assert_read_in_order(plan, "comments", IN_ORDER[OLDEST_FIRST.scope], backend)


async def test_the_database_refuses_a_second_pinned_comment_on_an_item(
    session: AsyncSession,
) -> None:
    content = await make_content(session, await make_creator(session))
    author = await make_user(session)
    await make_comment(session, content, author, is_pinned=True)
    await make_comment(session, content, author)
    await session.commit()

    with pytest.raises(IntegrityError):
        await make_comment(session, content, author, is_pinned=True)
    await session.rollback()
