"""Views are recorded on two paths: straight into the database, or buffered in Redis and
flushed by the worker. `views_app` runs a test on each; the Redis path gets a key prefix
of its own and is skipped without a Redis server (failed in CI)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.models import View, ViewMark
from dreamlust.runtime import Runtime
from dreamlust.views import service
from tests.fixtures.redis import available_redis_url
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.serving import served


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
        for mark in (await session.execute(select(ViewMark))).scalars():
            mark.counted_at -= window
        await session.commit()
        if self.runtime.redis is not None:
            prefix = self.runtime.settings.view_buffer_prefix
            async for key in self.runtime.redis.scan_iter(match=f"{prefix}:seen:*"):
                await self.runtime.redis.delete(key)


MakeViewsApp = Callable[..., Awaitable[ViewsApp]]


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
                    "redis_url": await available_redis_url(),
                    "view_buffer_prefix": f"dreamlust-test:views:{uuid.uuid4().hex}",
                    **overrides,
                }
            runtime = await stack.enter_async_context(own_runtime(settings, **overrides))
            if runtime.redis is not None:
                stack.push_async_callback(_forget_buffer, runtime)
            app = create_app(runtime.settings, runtime=runtime)
            client = await stack.enter_async_context(served(app))
            return ViewsApp(client, runtime)

        yield make


async def _forget_buffer(runtime: Runtime) -> None:
    """Delete the test's keys (the Redis server is shared)."""
    assert runtime.redis is not None
    prefix = runtime.settings.view_buffer_prefix
    async for key in runtime.redis.scan_iter(match=f"{prefix}:*"):
        await runtime.redis.delete(key)


@pytest.fixture
async def views_app(make_views_app: MakeViewsApp) -> ViewsApp:
    return await make_views_app()
