"""The live feed tells streams which users have new notifications: across processes
through Redis, within the process without it. A stream holds one flag however much is
published, and after the Redis subscription is lost every stream looks again."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from dreamlust.notifications.live import LiveFeed
from tests.fixtures.redis import connect_redis
from tests.fixtures.sse import WAIT_SECONDS


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = await connect_redis()
    yield client
    await client.aclose()


@pytest.fixture
async def two_feeds(redis: Redis) -> AsyncIterator[tuple[LiveFeed, LiveFeed]]:
    """Two processes' feeds on one Redis channel of this test's own."""
    channel = f"dreamlust-test:notifications:{uuid.uuid4().hex}"
    feeds = LiveFeed(redis, channel), LiveFeed(redis, channel)
    yield feeds
    for feed in feeds:
        await feed.close()


async def _woken(flag: asyncio.Event) -> bool:
    try:
        await asyncio.wait_for(flag.wait(), WAIT_SECONDS)
    except TimeoutError:
        return False
    return True


async def test_a_publication_in_one_process_wakes_the_listeners_of_that_user_in_another(
    two_feeds: tuple[LiveFeed, LiveFeed],
) -> None:
    here, there = two_feeds
    user, other = uuid.uuid4(), uuid.uuid4()
    with there.listen(user) as flag, there.listen(other) as other_flag:
        await there.ready()  # on subscribing, every listener looks once
        flag.clear()
        other_flag.clear()
        await here.publish([user])
        assert await _woken(flag)
        assert not other_flag.is_set()


async def test_without_redis_the_feed_is_the_process_own() -> None:
    feed = LiveFeed(None)
    user = uuid.uuid4()
    with feed.listen(user) as flag:
        await feed.ready()
        await feed.publish([uuid.uuid4()])
        assert not flag.is_set()
        await feed.publish([user])
        assert flag.is_set()
    assert feed.listeners(user) == 0


async def test_a_listener_holds_one_flag_however_much_is_published() -> None:
    feed = LiveFeed(None)
    user = uuid.uuid4()
    with feed.listen(user) as flag, feed.listen(user) as second:
        for _ in range(10_000):
            await feed.publish([user])
        assert flag.is_set()
        assert second.is_set()
        assert feed.listeners(user) == 2
        flag.clear()
        assert not flag.is_set()
    assert feed.listeners(user) == 0


async def test_after_losing_redis_the_feed_subscribes_again_and_every_listener_looks(
    redis: Redis, two_feeds: tuple[LiveFeed, LiveFeed]
) -> None:
    here, there = two_feeds
    user = uuid.uuid4()
    with there.listen(user) as flag:
        await there.ready()
        await redis.client_kill_filter(_type="pubsub")
        assert await _woken(flag)  # what was published meanwhile is looked for
        flag.clear()
        await asyncio.wait_for(there.ready(), WAIT_SECONDS)
        await here.publish([user])
        assert await _woken(flag)
