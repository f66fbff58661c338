"""Redis stopped under load, with the application using it for rate limits, the read
cache, the view buffer and the live notification feed, and a worker flushing views.

While it is down, as documented (README "Rate limits", `cache/read_cache.py`,
docs/DEPLOY.md "Redis"): every write, limited by counts kept in Redis, is refused with a
503 and `Retry-After`; reads are answered uncached; `/readyz` says 503; notification
streams stay open, and open. Never a 500, never a hang. Once it is back, writes pass
again, the streams hear what was made meanwhile and what is made next, and the views:
with the persistence docs/DEPLOY.md recommends, every view answered `counted: true` is
stored and counted exactly once, whatever the worker's flush was doing when Redis went;
without persistence the views still buffered then are lost (as documented), but none is
stored twice and none recorded after the outage is lost. A view refused with a 503 is
not stored, unless its request was in flight as Redis stopped: its script may have run
before the server closed the connection without the reply, and the retry the client
was asked for is then within the view's dedup window.
Counters match their rows either way.

PostgreSQL only: Redis is what several API processes share, and those run on
PostgreSQL; the embedded SQLite database serves one process, which needs no Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
from redis.exceptions import RedisError

from dreamlust.jobs import periodic
from dreamlust.models.enums import NotificationType
from dreamlust.notifications import service as notifications
from dreamlust.runtime import Runtime
from dreamlust.views.service import buffer_of
from tests.fixtures.fault_load import (
    API,
    PATIENCE_SECONDS,
    READS,
    WRITES,
    Answer,
    FaultApp,
    Load,
    Phase,
    Stored,
    World,
    counter_drift,
    serve_on,
    views_counted,
)
from tests.fixtures.private_services import PrivatePostgres, PrivateRedis
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.sse import EventReader, event_stream

BEFORE_THE_FAULT = 40
VIEWS_BEFORE_THE_FAULT = 10
DURING_THE_FAULT = 30
FLUSH_EVERY_SECONDS = 0.2
# Below the client's read timeout, so a quiet stream is not taken for a hung one; above
# the time a stream opened while Redis is down waits for the feed before it is ready.
HEARTBEAT_SECONDS = 5.0


@contextlib.asynccontextmanager
async def _flushing(worker: Runtime) -> AsyncIterator[None]:
    """The worker's view flush, run again and again, failing while Redis is down as
    the worker's does (it logs the failure and tries again next time)."""

    async def flush_forever() -> None:
        while True:
            with contextlib.suppress(RedisError):
                await periodic.flush_views(worker)
            await asyncio.sleep(FLUSH_EVERY_SECONDS)

    task = asyncio.create_task(flush_forever())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _flush_everything(worker: Runtime) -> None:
    buffer = buffer_of(worker)
    assert buffer is not None
    async with asyncio.timeout(PATIENCE_SECONDS):
        while await buffer.backlog():
            await periodic.flush_views(worker)


async def _announce(app: FaultApp, world: World, title: str) -> None:
    """A notification to each creator, made as the worker makes them (its delivery
    tells the live feed, or logs that it could not)."""
    async with app.database.transaction() as session:
        for owner_id, _headers in world.owners:
            kind = NotificationType.SYSTEM_ANNOUNCEMENT
            event = notifications.to_user(kind, owner_id, actor_id=None, title=title)
            await notifications.emit(session, event)


async def _titles_until(reader: EventReader, wanted: set[str]) -> None:
    """Read the stream until it has sent a notification with each title in `wanted`."""
    async with asyncio.timeout(PATIENCE_SECONDS):
        while wanted:
            wanted.discard((await reader.next_event()).json()["title"])


@pytest.mark.parametrize(
    "redis_server", [True, False], indirect=True, ids=["persistent", "without-persistence"]
)
async def test_a_redis_outage_under_load_degrades_as_documented_and_loses_no_counted_view(
    postgres_cluster: PrivatePostgres, redis_server: PrivateRedis, tmp_path: Path
) -> None:
    async with (
        serve_on(
            postgres_cluster,
            tmp_path,
            redis_url=redis_server.url,
            cache_enabled=True,
            notification_heartbeat_seconds=HEARTBEAT_SECONDS,
        ) as app,
        own_runtime(app.runtime.settings) as worker,
        AsyncExitStack() as streams,
    ):
        world = await World.seed(app)
        load = Load(app.client, world, seed=16)
        stream = f"{API}/notifications/stream"
        first, second = (headers for _id, headers in world.owners)
        opened_before = await streams.enter_async_context(event_stream(app.client, stream, first))

        async with _flushing(worker), load.running():
            await load.until(BEFORE_THE_FAULT, lambda answer: answer.ok)
            await load.until(VIEWS_BEFORE_THE_FAULT, Answer.counted)
            async with load.outage(app, redis_server, "redis", answers=DURING_THE_FAULT):
                opened_during = await streams.enter_async_context(
                    event_stream(app.client, stream, second)
                )
                await _announce(app, world, "Made while Redis was down")

        after = await load.every_kind_once()
        assert [a.status for a in after if not a.ok] == [], [a.body for a in after]
        await _announce(app, world, "Made once Redis was back")
        for reader in (opened_before, opened_during):
            await _titles_until(reader, {"Made while Redis was down", "Made once Redis was back"})

        answers = load.answers
        unanswered = [a for a in answers if a.status is None]
        assert unanswered == [], unanswered[:3]
        wrong = [a for a in answers if not a.ok and not a.unavailable]
        assert wrong == [], wrong[:3]
        while_down = [a for a in answers if a.during(Phase.DOWN)]
        assert {a.kind for a in while_down} >= {*READS, *WRITES}
        assert all(a.ok for a in while_down if not a.is_write), while_down[:3]
        assert all(a.unavailable for a in while_down if a.is_write), while_down[:3]

        await _flush_everything(worker)
        stored = await Stored.read(app.database)
        writes = [a for a in answers + after if a.is_write and a.kind != "view"]
        assert [a for a in writes if a.ok and stored.holds(a) != 1] == []
        assert [a for a in writes if not a.ok and stored.holds(a) != 0] == []

        views = [a for a in answers + after if a.kind == "view"]
        counted = {a.key for a in views if a.counted()}
        assert all(a.counted() for a in views if a.ok)
        # In flight as Redis went away: the script may have run before the server closed
        # the connection without its reply. The client was told to try again, and a retry
        # within the window is not counted again.
        in_doubt = {
            a.key for a in views if a.unavailable and a.sent <= Phase.STOPPING <= a.answered
        }
        stored_views = stored.rows["view"]
        assert max(stored_views.values()) == 1, "a view was stored twice"
        refused_but_stored = set(stored_views) - counted - in_doubt
        assert refused_but_stored == set(), [a for a in views if a.key in refused_but_stored]
        assert await views_counted(app.database) == stored_views.total()
        if redis_server.persistent:
            assert counted <= set(stored_views), "a view answered `counted: true` was lost"
        else:
            # Sent once the first server was gone: buffered in the second, and flushed.
            buffered_anew = {a.key for a in views if a.counted() and a.sent >= Phase.DOWN}
            assert buffered_anew <= set(stored_views)
        assert await counter_drift(app.runtime.settings) == []
