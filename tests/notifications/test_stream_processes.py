"""Two API processes on one database and one Redis: a stream open on one gets, within a
second, a notification caused through the other; a client that reconnects, to either,
with `Last-Event-ID` gets what it missed, once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from dreamlust.access_tokens import AccessTokens
from dreamlust.db import Database
from dreamlust.models import Creator, User
from tests.conftest import TEST_SECRET, make_settings
from tests.fixtures.accounts import bearer, make_account
from tests.fixtures.databases import empty_database
from tests.fixtures.money import API, paid_creator
from tests.fixtures.redis import available_redis_url
from tests.fixtures.serving import serve_process
from tests.fixtures.sse import EventReader, event_stream

STREAM = f"{API}/notifications/stream"


class Deployment:
    """Two `dreamlust serve` processes, and the accounts of the test in their database."""

    def __init__(self, database_url: str, first: str, second: str) -> None:
        settings = make_settings(database_url)
        self.database = Database(settings)
        self.tokens = AccessTokens(settings.signing_key(), timedelta(minutes=15))
        self.first = httpx.AsyncClient(base_url=first, timeout=30)
        self.second = httpx.AsyncClient(base_url=second, timeout=30)

    def headers(self, user: User) -> dict[str, str]:
        return bearer(self.tokens.issue(user))

    async def follow(self, through: httpx.AsyncClient, creator: Creator, fan: User) -> None:
        path = f"{API}/creators/{creator.handle}/follow"
        response = await through.put(path, headers=self.headers(fan))
        assert response.status_code == 200, response.text

    async def close(self) -> None:
        await self.first.aclose()
        await self.second.aclose()
        await self.database.dispose()


@pytest.fixture
async def deployment(backend: str, tmp_path: Path) -> AsyncIterator[Deployment]:
    env = {"REDIS_URL": await available_redis_url(), "DREAMLUST_SECRET_KEY": TEST_SECRET}
    places = tmp_path / "first", tmp_path / "second"
    for place in places:
        place.mkdir()
    # the processes start one after the other: each migrates the database as it starts
    async with (
        empty_database(backend, tmp_path) as database_url,
        serve_process(database_url, places[0], env) as first,
        serve_process(database_url, places[1], env) as second,
    ):
        deployment = Deployment(database_url, first, second)
        try:
            yield deployment
        finally:
            await deployment.close()


async def _titles(reader: EventReader, count: int) -> list[str]:
    return [str((await reader.next_event()).json()["title"]) for _ in range(count)]


async def test_a_notification_caused_through_one_process_reaches_a_stream_on_the_other(
    deployment: Deployment,
) -> None:
    async with deployment.database.session() as session:
        creator, owner = await paid_creator(session)
        fans = [await make_account(session, display_name=f"Fan {n}") for n in range(4)]
    headers = deployment.headers(owner)

    async with event_stream(deployment.first, STREAM, headers) as reader:
        caused = time.monotonic()
        await deployment.follow(deployment.second, creator, fans[0])
        seen = await reader.next_event()
        arrived = time.monotonic() - caused
    assert seen.json()["title"] == "Fan 0 started following you"
    assert arrived < 1.0, f"the notification took {arrived:.3f} s to cross processes"

    await deployment.follow(deployment.first, creator, fans[1])
    await deployment.follow(deployment.second, creator, fans[2])
    await asyncio.sleep(0.5)  # both are made after their responses

    assert seen.id is not None
    resumed = headers | {"Last-Event-ID": seen.id}
    async with event_stream(deployment.second, STREAM, resumed) as reader:
        assert await _titles(reader, 2) == [
            "Fan 1 started following you",
            "Fan 2 started following you",
        ]
        await deployment.follow(deployment.first, creator, fans[3])
        assert await _titles(reader, 1) == ["Fan 3 started following you"]
