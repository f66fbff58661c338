"""Alembic, driven from the application: `dreamlust db upgrade|downgrade|current`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.environment import NameFilterParentNames, NameFilterType
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from dreamlust.config import Settings
from dreamlust.db import create_engine
from dreamlust.search.index import is_index_table

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def include_name(
    name: str | None, type_: NameFilterType, _parent_names: NameFilterParentNames
) -> bool:
    """What autogenerate compares with the models: everything but the search index, whose
    full-text tables the models cannot express (revision 0002 writes them by hand)."""
    return not (type_ == "table" and name is not None and is_index_table(name))


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    config.attributes["lock_timeout_seconds"] = settings.migration_lock_timeout_seconds
    return config


async def _run(settings: Settings, action: Callable[..., Any], *args: Any) -> None:
    config = alembic_config(settings)
    engine = create_engine(settings)
    try:
        async with engine.begin() as connection:

            def run(sync_connection: Connection) -> None:
                config.attributes["connection"] = sync_connection
                action(config, *args)

            await connection.run_sync(run)
    finally:
        await engine.dispose()


async def upgrade(settings: Settings, revision: str = "head") -> None:
    await _run(settings, command.upgrade, revision)


async def downgrade(settings: Settings, revision: str) -> None:
    await _run(settings, command.downgrade, revision)


async def show_current(settings: Settings) -> None:
    await _run(settings, command.current, True)


async def current_revision(settings: Settings) -> str | None:
    engine = create_engine(settings)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


def head_revision(settings: Settings) -> str | None:
    return ScriptDirectory.from_config(alembic_config(settings)).get_current_head()
