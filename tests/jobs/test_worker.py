"""The worker's jobs: scheduled content goes live exactly once, however many workers run."""

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.jobs import periodic
from dreamlust.kit.clock import utcnow
from dreamlust.models import Content, Creator
from dreamlust.models.enums import ContentStatus
from dreamlust.runtime import Runtime
from tests.fixtures.factories import make_content, make_creator


async def _schedule(session: AsyncSession, count: int) -> Creator:
    creator = await make_creator(session)
    for _ in range(count):
        await make_content(
            session,
            creator,
            status=ContentStatus.DRAFT,
            scheduled_at=utcnow() + timedelta(hours=1),
        )
    await session.commit()
    return creator


async def test_scheduled_content_goes_live_exactly_once_with_two_workers(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator = await _schedule(session, 12)
    creator_id = creator.id
    assert (await client.get("/api/v1/content")).json()["items"] == []

    await session.execute(update(Content).values(scheduled_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    await asyncio.gather(
        periodic.release_scheduled_content(runtime),
        periodic.release_scheduled_content(runtime),
    )

    listed = (await client.get("/api/v1/content", params={"limit": 100})).json()["items"]
    assert len(listed) == len({item["id"] for item in listed}) == 12
    published = await session.scalar(
        select(func.count()).where(Content.status == ContentStatus.PUBLISHED)
    )
    count = await session.scalar(select(Creator.content_count).where(Creator.id == creator_id))
    versions = set(await session.scalars(select(Content.version)))
    await session.commit()
    assert published == 12
    assert count == 12
    assert versions == {2}


async def test_content_scheduled_for_later_waits(session: AsyncSession, runtime: Runtime) -> None:
    await _schedule(session, 2)
    await periodic.run_once(runtime)
    drafts = await session.scalar(select(func.count()).where(Content.status == ContentStatus.DRAFT))
    await session.commit()
    assert drafts == 2
