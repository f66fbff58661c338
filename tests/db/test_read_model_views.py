"""The views of revision 0011 say what the rows say, on both databases, and come and go
with their revision; a read for one creator or one item counts only their rows."""

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust import migrate
from dreamlust.config import Settings
from dreamlust.db import create_engine
from dreamlust.models import Base
from dreamlust.models.read_models import (
    VIEWS,
    content_engagement,
    creator_balances,
    creator_statistics,
)
from tests.conftest import make_settings
from tests.fixtures.databases import empty_database
from tests.fixtures.engagement_world import (
    build_engagement_world,
    content_engagement_by_hand,
    creator_statistics_by_hand,
)
from tests.fixtures.factories import make_creator

_READ_MODELS = {"creator_statistics", "content_engagement"}


async def _rows(session: AsyncSession, view: Table, key: str) -> dict[uuid.UUID, dict[str, Any]]:
    rows = await session.execute(select(view))
    return {
        row[key]: {name: value for name, value in row.items() if name != key}
        for row in (dict(row._mapping) for row in rows)
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_the_views_say_what_the_rows_say(session: AsyncSession, seed: int) -> None:
    creators = [await make_creator(session) for _ in range(3)]
    await build_engagement_world(session, creators, seed=seed)
    await session.commit()

    statistics = await _rows(session, creator_statistics, "creator_id")
    engagement = await _rows(session, content_engagement, "content_id")

    assert statistics == await creator_statistics_by_hand(session)
    assert engagement == await content_engagement_by_hand(session)
    assert any(row["view_count"] for row in statistics.values()), "the world has engagement"
    assert any(row["unique_viewers"] < row["view_count"] for row in engagement.values()), (
        "some viewers came back"
    )


async def test_a_creator_without_anything_counts_zero(session: AsyncSession) -> None:
    creator = await make_creator(session)
    await session.commit()

    row = (
        await session.execute(
            select(creator_statistics).where(creator_statistics.c.creator_id == creator.id)
        )
    ).one()

    assert set(row._mapping.values()) == {creator.id, 0}


def test_the_views_are_kept_apart_from_the_tables() -> None:
    """`create_all` and the models-versus-migrations check never see them as tables."""
    for view in VIEWS.tables.values():
        assert view.info == {"is_view": True}
        assert view.name not in Base.metadata.tables
    assert set(VIEWS.tables) == {*_READ_MODELS, creator_balances.name}


@pytest.fixture
async def fresh_settings(backend: str, tmp_path: Path) -> Any:
    async with empty_database(backend, tmp_path) as url:
        yield make_settings(url)


async def _view_names(settings: Settings) -> set[str]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_view_names()))
    finally:
        await engine.dispose()


async def test_the_revision_creates_and_drops_its_views(fresh_settings: Settings) -> None:
    await migrate.upgrade(fresh_settings, "0010")
    assert await _view_names(fresh_settings) == {"creator_balances"}

    await migrate.upgrade(fresh_settings, "0011")
    assert await _view_names(fresh_settings) == {"creator_balances", *_READ_MODELS}
    engine = create_engine(fresh_settings)
    try:
        async with engine.connect() as connection:
            for view in (creator_statistics, content_engagement):
                assert (await connection.execute(select(view))).all() == []
    finally:
        await engine.dispose()

    await migrate.downgrade(fresh_settings, "0010")
    assert await _view_names(fresh_settings) == {"creator_balances"}

    await migrate.upgrade(fresh_settings)
    assert await _view_names(fresh_settings) >= {"creator_balances", *_READ_MODELS}
