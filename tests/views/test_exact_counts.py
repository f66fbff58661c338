"""Counters stay exact under load: 10 000 distinct viewers at concurrency 32 make exactly
10 000 views, on the direct path and on the Redis path after the flush; a flush that dies
midway and runs again neither loses a view nor counts one twice."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.db import Database
from dreamlust.jobs import periodic
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.models import Content, User
from dreamlust.views import service
from dreamlust.views.buffer import BufferedView, ViewBuffer
from dreamlust.views.repository import ViewRepository
from tests.fixtures.factories import make_content, make_creator
from tests.views.conftest import MakeViewsApp, ViewsApp
from tests.views.test_record_view import counts

VIEWERS = 10_000
CONCURRENCY = 32
# SQLite's busy handler is not fair: with 32 writers queueing on one file, one of them can
# lose the race for the write lock for longer than the default 10 s.
PATIENT_SQLITE = {"sqlite_busy_timeout_ms": 120_000}
# Enough cancellations that a client which swallows 1 in 30 of them is caught.
CANCELLATIONS = 300
CANCELLED_TASK_ENDS_WITHIN_SECONDS = 10.0


class FlushKilled(Exception):
    pass


async def _hot_content(session: AsyncSession) -> Content:
    content = await make_content(session, await make_creator(session))
    await session.commit()
    return content


async def _view_by_distinct_viewers(app: ViewsApp, content: Content, viewers: range) -> None:
    """One view by each viewer (told apart by user agent), CONCURRENCY requests at a time."""
    gate = asyncio.Semaphore(CONCURRENCY)
    path = f"/api/v1/content/{content.id}/views"

    async def view(number: int) -> bool:
        async with gate:
            response = await app.client.post(path, headers={"User-Agent": f"viewer-{number}"})
        assert response.status_code == 202, response.text
        counted: bool = response.json()["counted"]
        return counted

    assert all(await asyncio.gather(*(view(number) for number in viewers)))


@pytest.mark.parametrize("path", ["direct"])
async def test_ten_thousand_viewers_make_ten_thousand_views_on_the_direct_path(
    make_views_app: MakeViewsApp, session: AsyncSession
) -> None:
    app = await make_views_app(**PATIENT_SQLITE)
    content = await _hot_content(session)

    await _view_by_distinct_viewers(app, content, range(VIEWERS))

    assert await counts(session, content) == (VIEWERS, VIEWERS, VIEWERS)


@pytest.mark.postgresql_only  # the load test of the Redis path; the flush runs on both
@pytest.mark.parametrize("path", ["redis"])
@pytest.mark.parametrize("kept", [False, True], ids=["item-read-per-view", "item-kept-in-redis"])
async def test_ten_thousand_viewers_make_ten_thousand_views_after_the_flush(
    make_views_app: MakeViewsApp, session: AsyncSession, kept: bool
) -> None:
    prefix = f"dreamlust-test:views:{uuid.uuid4().hex}"
    app = await make_views_app(
        view_buffer_prefix=prefix, cache_enabled=kept, cache_prefix=f"{prefix}:cache"
    )
    content = await _hot_content(session)

    await _view_by_distinct_viewers(app, content, range(VIEWERS))
    assert await counts(session, content) == (0, 0, 0)

    assert await app.flush() == VIEWERS
    assert await counts(session, content) == (VIEWERS, VIEWERS, VIEWERS)


async def _buffer_views(app: ViewsApp, content: Content, viewers: range) -> ViewBuffer:
    """Views by distinct viewers, buffered as the requests would buffer them."""
    buffer = service.buffer_of(app.runtime)
    assert buffer is not None
    for number in viewers:
        view = BufferedView(
            id=new_id(),
            content_id=content.id,
            user_id=None,
            viewer_hash=f"{number:064x}",
            user_agent=None,
            watch_duration=number % 600,
            created_at=utcnow(),
        )
        assert await buffer.record(view, 1800)
    return buffer


def _kill_when_storing(
    monkeypatch: pytest.MonkeyPatch, method: str, *, at_call: int, after: bool
) -> None:
    """Make the flush die at its `at_call`-th call of ViewRepository.`method`: just
    before the call, or just after it (still before its transaction commits)."""
    original = getattr(ViewRepository, method)
    calls = 0

    async def dying(self: ViewRepository, *args: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == at_call and not after:
            raise FlushKilled
        result = await original(self, *args)
        if calls == at_call and after:
            raise FlushKilled
        return result

    monkeypatch.setattr(ViewRepository, method, dying)


@pytest.mark.parametrize("path", ["redis"])
async def test_a_flush_killed_before_its_commit_loses_nothing(
    views_app: ViewsApp, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = await _hot_content(session)
    await _buffer_views(views_app, content, range(VIEWERS))

    with monkeypatch.context() as patch:
        # the third chunk's rows are inserted, its counters not yet moved
        _kill_when_storing(patch, "insert_new", at_call=3, after=True)
        with pytest.raises(FlushKilled):
            await service.flush_buffered(views_app.runtime, chunk_size=1_000)
    assert await counts(session, content) == (2_000, 2_000, 2_000)

    assert await views_app.flush() == VIEWERS - 2_000
    assert await counts(session, content) == (VIEWERS, VIEWERS, VIEWERS)
    assert await views_app.flush() == 0


@pytest.mark.parametrize("path", ["redis"])
async def test_a_flush_killed_after_its_commit_counts_nothing_twice(
    views_app: ViewsApp, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = await _hot_content(session)
    buffer = await _buffer_views(views_app, content, range(VIEWERS))

    async def killed(_self: ViewBuffer, _batch: str) -> bool:
        raise FlushKilled

    with monkeypatch.context() as patch:
        patch.setattr(ViewBuffer, "finish_batch", killed)
        with pytest.raises(FlushKilled):
            await views_app.flush()
    assert await counts(session, content) == (VIEWERS, VIEWERS, VIEWERS)
    assert await views_app.runtime.redis.exists(buffer.processing)  # type: ignore[union-attr]

    assert await views_app.flush() == 0
    assert await counts(session, content) == (VIEWERS, VIEWERS, VIEWERS)
    assert not await views_app.runtime.redis.exists(buffer.processing)  # type: ignore[union-attr]


@pytest.mark.parametrize("path", ["redis"])
async def test_views_recorded_during_a_flush_are_stored_by_the_next(
    views_app: ViewsApp, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = await _hot_content(session)
    await _buffer_views(views_app, content, range(3_000))
    original = ViewRepository.insert_new
    recorded_meanwhile = False

    async def recording_more(self: ViewRepository, rows: Sequence[dict[str, Any]]) -> Any:
        nonlocal recorded_meanwhile
        if not recorded_meanwhile:
            recorded_meanwhile = True
            await _buffer_views(views_app, content, range(3_000, 3_500))
        return await original(self, rows)

    with monkeypatch.context() as patch:
        patch.setattr(ViewRepository, "insert_new", recording_more)
        assert await service.flush_buffered(views_app.runtime, chunk_size=1_000) == 3_000
    assert await counts(session, content) == (3_000, 3_000, 3_000)

    assert await views_app.flush() == 500
    assert await counts(session, content) == (3_500, 3_500, 3_500)


@pytest.mark.parametrize("path", ["redis"])
async def test_two_flushes_at_once_store_each_view_once(
    views_app: ViewsApp, session: AsyncSession
) -> None:
    content = await _hot_content(session)
    await _buffer_views(views_app, content, range(5_000))

    stored = await asyncio.gather(
        service.flush_buffered(views_app.runtime, chunk_size=700),
        service.flush_buffered(views_app.runtime, chunk_size=300),
    )

    assert sum(stored) == 5_000
    assert await counts(session, content) == (5_000, 5_000, 5_000)


@pytest.mark.parametrize("path", ["redis"])
async def test_the_worker_flushes_the_buffered_views(
    views_app: ViewsApp, session: AsyncSession
) -> None:
    content = await _hot_content(session)
    await _buffer_views(views_app, content, range(25))

    await periodic.run_once(views_app.runtime)

    assert await counts(session, content) == (25, 25, 25)


@pytest.mark.postgresql_only  # SQLite writers take the whole database, one at a time
async def test_a_flush_leaves_the_items_counters_free_for_likes_and_comments(
    session: AsyncSession, database: Database
) -> None:
    """A flush keeps its items from being removed, not from being counted: a like takes
    the creator's row and then the item's, so a flush that held the item's row for
    update while waiting for the creator's would deadlock with it."""
    creator = await make_creator(session)
    content = await make_content(session, creator)
    await session.commit()

    async with database.transaction() as flushing:
        await ViewRepository(flushing).creators_of({content.id})
        await ViewRepository(flushing).existing_users({creator.user_id})
        async with database.transaction() as liking:
            await liking.execute(text("SET LOCAL lock_timeout = '2s'"))
            await liking.execute(
                update(Content)
                .where(Content.id == content.id)
                .values(like_count=Content.like_count + 1)
            )
            await liking.execute(
                update(User).where(User.id == creator.user_id).values(last_login_at=utcnow())
            )


async def _cancelled_at_random(work: Callable[[], Awaitable[object]], rng: random.Random) -> None:
    """Run `work` in a task and cancel it at a random moment of its first few
    milliseconds: the task must end, cancelled or done, and soon."""
    task = asyncio.create_task(work())
    await asyncio.sleep(rng.random() * 0.004)
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=CANCELLED_TASK_ENDS_WITHIN_SECONDS)
    assert done, "a cancelled call to Redis ran on"


@pytest.mark.parametrize("path", ["redis"])
async def test_recording_and_flushing_cancelled_anywhere_stop_and_lose_nothing(
    views_app: ViewsApp, session: AsyncSession
) -> None:
    """What a request cut off by its client, or a worker told to stop, does to the buffer:
    the cancelled call stops (a Redis client that swallowed the cancellation would run on,
    and the task that awaits it would hang), and the next flush stores every view buffered
    by then exactly once."""
    content = await _hot_content(session)
    buffer = service.buffer_of(views_app.runtime)
    assert buffer is not None
    rng = random.Random(CANCELLATIONS)
    viewers = itertools.count()

    async def keep_recording() -> None:
        while True:
            viewer = next(viewers)
            await _buffer_views(views_app, content, range(viewer, viewer + 1))

    for _ in range(CANCELLATIONS):
        await _cancelled_at_random(keep_recording, rng)
    buffered = await buffer.backlog()
    assert buffered > 0

    for _ in range(CANCELLATIONS // 10):
        await _cancelled_at_random(views_app.flush, rng)
    await views_app.flush()
    assert await buffer.backlog() == 0
    assert await counts(session, content) == (buffered, buffered, buffered)
