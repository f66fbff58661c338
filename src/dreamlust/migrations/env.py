"""Alembic environment: runs migrations through the application's async engine."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection
from sqlalchemy.types import TypeDecorator

from dreamlust.config import get_settings
from dreamlust.db import create_engine
from dreamlust.migrate import include_name
from dreamlust.models import Base

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render the project's column types as the plain types they store, so that
    revisions never depend on application code that may change later."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{obj.impl!r}"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        include_name=include_name,
        compare_type=True,
        compare_server_default=False,
    )


def _limit_lock_waits() -> None:
    """On PostgreSQL, a statement that waits longer than the setting for a lock fails
    the migration, instead of holding up every query queued behind its lock request."""
    if context.get_context().dialect.name != "postgresql":
        return
    seconds = config.attributes.get("lock_timeout_seconds")
    if seconds is None:
        seconds = get_settings().migration_lock_timeout_seconds
    context.execute(f"SET LOCAL lock_timeout = '{int(seconds)}s'")


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        _limit_lock_waits()
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(get_settings())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


def _run_offline() -> None:
    """`alembic upgrade A:B --sql`: the SQL of revisions A to B, written out instead of
    run, for review and for `squawk` (steps that read rows to move them write nothing)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or get_settings().database_url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_item=render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        _limit_lock_waits()
        context.run_migrations()


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if context.is_offline_mode():
        _run_offline()
    elif connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_online())


run_migrations()
