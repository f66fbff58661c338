"""A creator's own statistics over HTTP: their audience and catalogue, and a page of their
items with each one's engagement, as the rows count them; only for the creator."""

import uuid
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.db import INCLUDE_DELETED
from dreamlust.models import Content, Creator
from dreamlust.models.enums import UserRole
from dreamlust.runtime import Runtime
from tests.conftest import StatementCounter
from tests.fixtures.accounts import headers_for
from tests.fixtures.engagement_world import (
    build_engagement_world,
    content_engagement_by_hand,
    creator_statistics_by_hand,
)
from tests.fixtures.factories import make_creator, make_user

STATISTICS = "/api/v1/creators/me/statistics"
CONTENT = f"{STATISTICS}/content"
_COUNTS = ("view_count", "unique_viewers", "watch_seconds", "like_count", "comment_count")


async def _world(session: AsyncSession, runtime: Runtime) -> tuple[Creator, dict[str, str]]:
    owner = await make_user(session, role=UserRole.CREATOR, is_creator=True)
    creator = await make_creator(session, user=owner)
    await build_engagement_world(session, [creator, await make_creator(session)], seed=7)
    await session.commit()
    return creator, headers_for(runtime, owner)


async def _pages(client: httpx.AsyncClient, headers: dict[str, str], limit: int) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(CONTENT, params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_a_creator_reads_their_statistics(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, headers = await _world(session, runtime)
    expected = (await creator_statistics_by_hand(session))[creator.id]

    response = await client.get(STATISTICS, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "follower_count": expected["follower_count"],
        "subscriber_count": expected["subscriber_count"],
        "content": {
            "published": expected["published_count"],
            "scheduled": expected["scheduled_count"],
            "drafts": expected["draft_count"],
            "pending_review": expected["pending_review_count"],
            "rejected": expected["rejected_count"],
            "archived": expected["archived_count"],
        },
        "view_count": expected["view_count"],
        "watch_seconds": expected["watch_seconds"],
        "like_count": expected["like_count"],
        "comment_count": expected["comment_count"],
    }
    assert expected["view_count"] > 0


async def test_a_creator_pages_through_their_live_items_with_engagement(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, headers = await _world(session, runtime)
    engagement = await content_engagement_by_hand(session)
    live = (
        await session.execute(
            select(Content.id, Content.created_at, Content.deleted_at)
            .where(Content.creator_id == creator.id)
            .execution_options(**{INCLUDE_DELETED: True})
        )
    ).all()
    await session.commit()

    items = await _pages(client, headers, limit=3)

    newest_first = sorted(
        (row for row in live if row.deleted_at is None),
        key=lambda row: (row.created_at, row.id),
        reverse=True,
    )
    assert [item["id"] for item in items] == [str(row.id) for row in newest_first]
    assert len(newest_first) < len(live), "deleted items are left out"
    for item in items:
        hand = engagement[uuid.UUID(item["id"])]
        assert {name: item[name] for name in (*_COUNTS, "playlist_count")} == {
            name: hand[name] for name in (*_COUNTS, "playlist_count")
        }


async def test_a_page_costs_the_same_statements_however_many_items(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    count_statements: StatementCounter,
) -> None:
    _, headers = await _world(session, runtime)
    costs = {}
    for limit in (1, 20):
        count_statements.clear()
        response = await client.get(CONTENT, params={"limit": limit}, headers=headers)
        assert response.status_code == 200
        costs[len(response.json()["items"])] = count_statements.count
    one, many = sorted(costs)
    assert (one, many > 5) == (1, True), "one item, then all of them"
    assert costs[one] == costs[many]


async def test_only_creators_read_statistics(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    viewer = await make_user(session)
    await session.commit()

    for path in (STATISTICS, CONTENT):
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers=headers_for(runtime, viewer))).status_code == 403


async def test_a_forged_cursor_is_refused(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _, headers = await _world(session, runtime)

    response = await client.get(CONTENT, params={"cursor": "forged"}, headers=headers)

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
