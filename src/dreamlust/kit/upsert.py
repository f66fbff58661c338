"""INSERT … ON CONFLICT on either database: the way to add a row that concurrent requests
may add too, where the unique constraint decides who wins."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def upsert(session: AsyncSession, model: type[Any]) -> Any:
    """An insert into `model` in the session's dialect, which takes `on_conflict_do_…`."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model)


def insert_or_ignore(session: AsyncSession, model: type[Any]) -> Any:
    """An insert into `model` that skips rows conflicting with a unique constraint."""
    return upsert(session, model).on_conflict_do_nothing()
