"""Views are recorded on two paths: straight into the database, or buffered in Redis and
flushed by the worker. `views_app` runs a test on each; the Redis path gets a key prefix
of its own and is skipped without a Redis server (failed in CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.models import View
from dreamlust.runtime import Runtime
from dreamlust.views import service
from tests.conftest import IN_CI
from tests.fixtures.serving import served

TEST_REDIS_URL = os.environ.get("DREAMLUST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@dataclass
class ViewsApp:
    """A client of the application and the runtime behind it, on one of the two paths."""

    client: httpx.AsyncClient
    runtime: Runtime

    @property
    def buffered(self) -> bool:
        return self.runtime.redis is not None

    async def flush(self) -> int:
        """Store what the Redis path buffered (the worker's job); nothing on the direct path."""
        return await service.flush_buffered(self.runtime)

    async def pass_window(self, session: AsyncSession) -> None:
        """Let the dedup window of every view so far run out."""
        window = timedelta(minutes=self.runtime.settings.view_dedup_minutes)
        for view in (await session.execute(select(View))).scalars():
            view.created_at -= window
        await session.commit()
        if self.runtime.redis is not None:
            prefix = self.runtime.settings.view_buffer_prefix
            async for key in self.runtime.redis.scan_iter(match=f"{prefix}:seen:*"):
                await self.runtime.redis.delete(key)


MakeViewsApp = Callable[..., Awaitable[ViewsApp]]
# Settings that shape the engine: the application then gets an engine of its own.
_ENGINE_SETTINGS = frozenset({"sqlite_busy_timeout_ms", "db_pool_size", "db_max_overflow"})


async def _test_redis_url() -> str:
    redis = Redis.from_url(TEST_REDIS_URL)
    try:
        await redis.ping()
    except (RedisError, OSError) as exc:
        if IN_CI:
            pytest.fail(f"CI requires Redis at {TEST_REDIS_URL}: {exc}")
        pytest.skip(f"Redis NOT TESTED: no server at {TEST_REDIS_URL}: {exc}")
    finally:
        await redis.aclose()
    return TEST_REDIS_URL


@pytest.fixture(params=["direct", "redis"])
def path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_views_app(
    path: str, settings: Settings, database: Database
) -> AsyncIterator[MakeViewsApp]:
    """Builds the application on this test's path, with settings overridden as asked."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: object) -> ViewsApp:
            if path == "redis":
                overrides = {
                    "redis_url": await _test_redis_url(),
                    "view_buffer_prefix": f"dreamlust-test:views:{uuid.uuid4().hex}",
                    **overrides,
                }
            own_settings = settings.model_copy(update=overrides)
            own_database = database
            if overrides.keys() & _ENGINE_SETTINGS:
                own_database = Database(own_settings)
                stack.push_async_callback(own_database.dispose)
            runtime = Runtime.start(own_settings, database=own_database)
            if runtime.redis is not None:
                stack.push_async_callback(_forget_buffer, runtime)
            app = create_app(runtime.settings, runtime=runtime)
            client = await stack.enter_async_context(served(app))
            return ViewsApp(client, runtime)

        yield make


async def _forget_buffer(runtime: Runtime) -> None:
    """Delete the test's keys and close its Redis client (the database is shared)."""
    assert runtime.redis is not None
    prefix = runtime.settings.view_buffer_prefix
    async for key in runtime.redis.scan_iter(match=f"{prefix}:*"):
        await runtime.redis.delete(key)
    await runtime.redis.aclose()


@pytest.fixture
async def views_app(make_views_app: MakeViewsApp) -> ViewsApp:
    return await make_views_app()
