"""The migration history builds the whole model, tears it down, and agrees with the models."""

import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect

from dreamlust import migrate
from dreamlust.config import Settings
from dreamlust.db import create_engine
from dreamlust.models import Base
from tests.conftest import make_settings
from tests.fixtures.databases import empty_database


@pytest.fixture
async def fresh_settings(backend: str, tmp_path: Path) -> AsyncIterator[Settings]:
    async with empty_database(backend, tmp_path) as url:
        yield make_settings(url)


async def _tables(settings: Settings) -> set[str]:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def test_upgrade_downgrade_upgrade_round_trip(fresh_settings: Settings) -> None:
    model_tables = set(Base.metadata.tables)

    await migrate.upgrade(fresh_settings)
    assert await _tables(fresh_settings) == model_tables
    assert await migrate.current_revision(fresh_settings) == migrate.head_revision(fresh_settings)

    await migrate.downgrade(fresh_settings, "base")
    assert await _tables(fresh_settings) == set()
    assert await migrate.current_revision(fresh_settings) is None

    await migrate.upgrade(fresh_settings)
    assert await _tables(fresh_settings) == model_tables


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    with warnings.catch_warnings():
        # Expression indexes (lower(email) …) are written by hand in the revision and
        # checked by the case-insensitive uniqueness tests instead.
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        return list(compare_metadata(context, Base.metadata))


async def test_models_and_migrations_agree(fresh_settings: Settings) -> None:
    await migrate.upgrade(fresh_settings)
    engine = create_engine(fresh_settings)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == []
