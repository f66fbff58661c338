"""Every list of content and of creators is read from an index that yields its rows in
order: the database never collects and sorts the matching rows to cut a page.

The statements are built as the routes build them (repository query, then the paginator),
for the first page and for a page after a cursor, and explained as the session sends them.
"""

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.repository import (
    LATEST,
    NEWEST_CREATED,
    POPULAR,
    TRENDING,
    CardQuery,
    ContentFilter,
    ContentRepository,
)
from dreamlust.content.visibility import Viewer
from dreamlust.creators.repository import NEWEST, CreatorRepository
from dreamlust.creators.repository import POPULAR as POPULAR_CREATORS
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import Ordering, PageRequest
from dreamlust.models.enums import ContentType
from dreamlust.runtime import Runtime
from dreamlust.users.preferences import NsfwPolicy
from tests.fixtures.plans import assert_read_in_order, query_plan

VIEWERS = {
    "anonymous": Viewer(),
    "adult showing nsfw": Viewer(is_adult=True, nsfw_policy=NsfwPolicy.SHOW),
}
FILTERS = {
    "no filter": ContentFilter(),
    "type": ContentFilter(type=ContentType.PHOTO),
    "not vr": ContentFilter(vr=False),
    "category": ContentFilter(category="nature"),
    "tag": ContentFilter(tag="sunset"),
    "type and tag": ContentFilter(type=ContentType.VIDEO, tag="sunset"),
}
# The indexes that yield each ordering's rows in order, after the equality tests its
# queries make: status everywhere, and creator_id for one creator's content.
IN_ORDER = {
    LATEST.scope: {"ix_content_status_published_at_id"},
    POPULAR.scope: {"ix_content_status_view_count_id"},
    **{
        ordering.scope: {f"ix_content_status_trending_{window.value}_id"}
        for window, ordering in TRENDING.items()
    },
}
DISCOVERY = [LATEST, POPULAR, *TRENDING.values()]
DISCOVERY_IDS = ["latest", "popular", *(f"trending {window.value}" for window in TRENDING)]
IN_ORDER_FOR_ONE_CREATOR = {
    LATEST.scope: IN_ORDER[LATEST.scope] | {"ix_content_creator_id_status_published_at_id"},
    POPULAR.scope: IN_ORDER[POPULAR.scope] | {"ix_content_creator_id_status_view_count_id"},
    NEWEST_CREATED.scope: {"ix_content_creator_id_created_at_id"},
}
CREATORS_IN_ORDER = {
    POPULAR_CREATORS.scope: {"ix_creators_status_follower_count_id"},
    NEWEST.scope: {"ix_creators_status_created_at_id"},
}


def pages(runtime: Runtime, ordering: Ordering) -> list[PageRequest]:
    """The first page, and a page after a cursor (whose keys make a row-value comparison)."""
    first = ordering.keys[0]
    value: object = utcnow() if first.python_type is datetime else 3
    cursor = runtime.paginator.codec.encode(ordering, [value, uuid.uuid4()])
    return [PageRequest(), PageRequest(cursor=cursor)]


async def explain_cards(
    session: AsyncSession,
    runtime: Runtime,
    ordering: Ordering,
    build: Callable[[PageRequest], CardQuery],
) -> list[str]:
    """The plans of a card list's first page and of a page after a cursor, as served."""
    plans = []
    for page in pages(runtime, ordering):
        query = build(page)
        plans.append(
            await query_plan(session, query.statement, params=query.params, subqueries=False)
        )
    return plans


async def explain_each(
    session: AsyncSession,
    runtime: Runtime,
    ordering: Ordering,
    build: Callable[[], Select[Any]],
) -> list[str]:
    plans = []
    for page in pages(runtime, ordering):
        stmt = runtime.paginator.apply(build(), ordering, page)
        plans.append(await query_plan(session, stmt, subqueries=False))
    return plans


@pytest.mark.parametrize("ordering", DISCOVERY, ids=DISCOVERY_IDS)
@pytest.mark.parametrize("filters", list(FILTERS.values()), ids=list(FILTERS))
@pytest.mark.parametrize("viewer", list(VIEWERS.values()), ids=list(VIEWERS))
async def test_the_content_list_is_read_in_order_from_an_index(
    session: AsyncSession,
    runtime: Runtime,
    backend: str,
    ordering: Ordering,
    filters: ContentFilter,
    viewer: Viewer,
) -> None:
    repository = ContentRepository(session)

    plans = await explain_cards(
        session,
        runtime,
        ordering,
        lambda page: repository.listing_query(viewer, filters, ordering, page, runtime.paginator),
    )

    for plan in plans:
        assert_read_in_order(plan, "content", IN_ORDER[ordering.scope], backend)


@pytest.mark.parametrize("ordering", [LATEST, POPULAR], ids=["latest", "popular"])
@pytest.mark.parametrize("content_type", [None, ContentType.VR], ids=["any type", "vr"])
async def test_the_content_list_of_one_creator_is_read_in_order_from_an_index(
    session: AsyncSession,
    runtime: Runtime,
    backend: str,
    ordering: Ordering,
    content_type: ContentType | None,
) -> None:
    """GET /content?creator=…"""
    repository = ContentRepository(session)
    one_creator = ContentFilter(type=content_type, creator_id=uuid.uuid4())

    plans = await explain_cards(
        session,
        runtime,
        ordering,
        lambda page: repository.listing_query(
            Viewer(), one_creator, ordering, page, runtime.paginator
        ),
    )

    for plan in plans:
        assert_read_in_order(plan, "content", IN_ORDER_FOR_ONE_CREATOR[ordering.scope], backend)


@pytest.mark.parametrize(
    ("ordering", "everything"),
    [(LATEST, False), (POPULAR, False), (NEWEST_CREATED, True)],
    ids=["public latest", "public popular", "owner or staff"],
)
async def test_a_creators_content_page_is_read_in_order_from_an_index(
    session: AsyncSession,
    runtime: Runtime,
    backend: str,
    ordering: Ordering,
    everything: bool,
) -> None:
    """GET /creators/{handle}/content: the public's sorts, and everything, newest created
    first, for the creator and staff."""
    repository = ContentRepository(session)
    mine = ContentFilter(creator_id=uuid.uuid4())

    plans = await explain_cards(
        session,
        runtime,
        ordering,
        lambda page: repository.listing_query(
            Viewer(), mine, ordering, page, runtime.paginator, everything=everything
        ),
    )

    for plan in plans:
        assert_read_in_order(plan, "content", IN_ORDER_FOR_ONE_CREATOR[ordering.scope], backend)


@pytest.mark.parametrize("ordering", [POPULAR_CREATORS, NEWEST], ids=["popular", "new"])
@pytest.mark.parametrize(
    ("category", "verified"),
    [(None, None), ("music", None), (None, True), ("music", False)],
    ids=["no filter", "category", "verified", "category and not verified"],
)
async def test_the_creators_list_is_read_in_order_from_an_index(
    session: AsyncSession,
    runtime: Runtime,
    backend: str,
    ordering: Ordering,
    category: str | None,
    verified: bool | None,
) -> None:
    repository = CreatorRepository(session)

    plans = await explain_each(
        session,
        runtime,
        ordering,
        lambda: repository.public_listing(category=category, verified=verified),
    )

    for plan in plans:
        assert_read_in_order(plan, "creators", CREATORS_IN_ORDER[ordering.scope], backend)
