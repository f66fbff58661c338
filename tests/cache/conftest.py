"""Every cache test runs with the cache in the process and in Redis, on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dreamlust.config import Settings
from dreamlust.db import Database
from tests.fixtures.cache import STORES, CachedApi, cached_api


@pytest.fixture(params=STORES)
async def api(
    request: pytest.FixtureRequest, settings: Settings, database: Database
) -> AsyncIterator[CachedApi]:
    async with cached_api(settings, request.param) as cached:
        yield cached
