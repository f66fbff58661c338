"""Counters stay exact under load: 10 000 distinct viewers at concurrency 32 make exactly
10 000 views, on the direct path and on the Redis path after the flush, even when the
flush dies midway and is run again."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.jobs import periodic
from dreamlust.models import Content
from dreamlust.views import service
from dreamlust.views.buffer import ViewBuffer
from dreamlust.views.repository import ViewRepository
from tests.fixtures.factories import make_content, make_creator
from tests.views.conftest import MakeViewsApp, ViewsApp
from tests.views.test_record_view import counts

VIEWERS = 10_000
CONCURRENCY = 32


class FlushKilled(Exception):
    pass


async def _hot_content(session: AsyncSession) -> Content:
    content = await make_content(session, await make_creator(session))
    await session.commit()
    return content


async def _view_by_distinct_viewers(
    app: ViewsApp, content: Content, viewers: range
) -> None:
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


async def test_ten_thousand_distinct_viewers_make_exactly_ten_thousand_views(
    views_app: ViewsApp, session: AsyncSession
) -> None:
    content = await _hot_content(session)

    await _view_by_distinct_viewers(views_app, content, range(VIEWERS))

    assert await views_app.flush() == (VIEWERS if views_app.buffered else 0)
    assert await counts(session, content) == (VIEWERS, VIEWERS, VIEWERS)
