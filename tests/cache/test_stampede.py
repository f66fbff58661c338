"""Many requests for one key that has to be read again run its query once: the others
wait for it, or get the stale copy while it runs."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.models import Content, User
from dreamlust.models.enums import UserRole
from tests.conftest import StatementCounter
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.cache import TTL_SECONDS, CachedApi, Clock, cached_api, lookups
from tests.fixtures.factories import make_content, make_creator

API = "/api/v1"
CONCURRENT = 100
OUTCOMES = ("hit", "miss", "stale")


async def published(session: AsyncSession) -> tuple[Content, User]:
    owner = await make_account(session, role=UserRole.CREATOR, is_creator=True)
    content = await make_content(session, await make_creator(session, user=owner), title="Hot")
    await session.commit()
    return content, owner


async def read_all(clients: Sequence[httpx.AsyncClient], path: str) -> list[str]:
    """CONCURRENT requests at once, spread over the clients: each answer's title."""
    responses = await asyncio.gather(
        *(clients[n % len(clients)].get(path) for n in range(CONCURRENT))
    )
    assert {response.status_code for response in responses} == {200}
    return [response.json()["title"] for response in responses]


def card_reads(counter: StatementCounter) -> int:
    return sum(1 for statement in counter.statements if "FROM content" in statement)


async def test_an_expired_entry_is_read_again_once(
    api: CachedApi, session: AsyncSession, count_statements: StatementCounter
) -> None:
    content, _owner = await published(session)
    path = f"{API}/content/{content.id}"
    assert (await api.client.get(path)).status_code == 200
    api.clock.advance(TTL_SECONDS + 1)
    before = {outcome: lookups("content", outcome) for outcome in OUTCOMES}
    count_statements.clear()

    assert await read_all([api.client], path) == ["Hot"] * CONCURRENT

    assert card_reads(count_statements) == 1, count_statements.statements
    counted = {outcome: lookups("content", outcome) - before[outcome] for outcome in OUTCOMES}
    # One request reads it again; the others got the stale copy meanwhile, or the new one.
    assert counted["miss"] == 1
    assert counted["stale"] + counted["hit"] == CONCURRENT - 1


async def test_an_invalidated_entry_is_read_again_once_and_never_served_stale(
    api: CachedApi, session: AsyncSession, count_statements: StatementCounter
) -> None:
    content, owner = await published(session)
    path = f"{API}/content/{content.id}"
    assert (await api.client.get(path)).status_code == 200
    edited = await api.client.patch(
        path,
        json={"title": "Hotter"},
        headers={**headers_for(api.runtime, owner), "If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    count_statements.clear()

    assert await read_all([api.client], path) == ["Hotter"] * CONCURRENT

    assert card_reads(count_statements) == 1, count_statements.statements


async def test_processes_sharing_redis_read_a_missing_entry_once(
    settings: Settings,
    database: Database,
    session: AsyncSession,
    count_statements: StatementCounter,
) -> None:
    content, _owner = await published(session)
    prefix, clock = f"dreamlust-test-cache:shared:{content.id}", Clock()
    async with (
        cached_api(settings, "redis", prefix=prefix, clock=clock) as first,
        cached_api(settings, "redis", prefix=prefix, clock=clock) as second,
    ):
        count_statements.clear()
        titles = await read_all([first.client, second.client], f"{API}/content/{content.id}")

    assert titles == ["Hot"] * CONCURRENT
    assert card_reads(count_statements) == 1, count_statements.statements


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_a_hit_runs_no_sql_and_answers_the_same_bytes(
    settings: Settings,
    database: Database,
    session: AsyncSession,
    count_statements: StatementCounter,
    store: str,
) -> None:
    content, _owner = await published(session)
    path = f"{API}/content/{content.id}"
    async with cached_api(settings, store) as api:
        first = await api.client.get(path)
        count_statements.clear()
        second = await api.client.get(path)

    assert count_statements.count == 0, count_statements.statements
    assert (second.content, second.headers["etag"]) == (first.content, first.headers["etag"])
    assert second.headers["content-type"] == "application/json"
