"""A creator's statistics read only that creator's rows: every count of the views is a
search of an index by creator or item, and the page of items comes out of the creator's
index in order, its counts computed for the page's rows."""

import re
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.creators.statistics_repository import (
    NEWEST_ITEMS,
    items_with_engagement,
    statistics_of,
)
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import PageRequest
from dreamlust.runtime import Runtime
from tests.fixtures.engagement_world import build_engagement_world
from tests.fixtures.factories import make_creator
from tests.fixtures.plans import assert_read_in_order, query_plan

_COUNTED = ("views", "likes", "comments", "playlist_items", "follows", "subscriptions")


def _assert_no_table_is_read_whole(plan: str, backend: str) -> None:
    tables = "|".join(_COUNTED)
    if backend == "postgresql":
        assert not re.search(rf"Seq Scan on ({tables})\b", plan), plan
    else:
        assert not re.search(rf"SCAN ({tables})\b(?! USING)", plan), plan


async def _world(session: AsyncSession, backend: str) -> uuid.UUID:
    creators = [await make_creator(session) for _ in range(3)]
    await build_engagement_world(session, creators, seed=11)
    await session.commit()
    if backend == "postgresql":
        await session.execute(text("ANALYZE"))
        await session.commit()
    return creators[0].id


async def test_one_creators_statistics_search_indexes(session: AsyncSession, backend: str) -> None:
    creator_id = await _world(session, backend)

    plan = await query_plan(session, statistics_of(creator_id))

    _assert_no_table_is_read_whole(plan, backend)


async def test_a_page_of_items_is_read_in_order_from_the_creators_index(
    session: AsyncSession, backend: str, runtime: Runtime
) -> None:
    creator_id = await _world(session, backend)
    cursor = runtime.paginator.codec.encode(NEWEST_ITEMS, [utcnow(), uuid.uuid4()])
    for request in (PageRequest(limit=5), PageRequest(limit=5, cursor=cursor)):
        stmt = runtime.paginator.apply(items_with_engagement(creator_id), NEWEST_ITEMS, request)

        plan = await query_plan(session, stmt)

        _assert_no_table_is_read_whole(plan, backend)
        outer = await query_plan(session, stmt, subqueries=False)
        assert_read_in_order(outer, "content", {"ix_content_creator_id_created_at_id"}, backend)
