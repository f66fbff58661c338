"""The application on each storage backend, for the tests that serve media."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from dreamlust.config import Settings
from dreamlust.runtime import Runtime
from tests.fixtures.stored_media import MediaApp, media_app_on


@pytest.fixture(params=["local", "s3"])
async def app(
    request: pytest.FixtureRequest, settings: Settings, runtime: Runtime
) -> AsyncIterator[MediaApp]:
    async with media_app_on(request.param, request, settings, runtime) as media_app:
        yield media_app
