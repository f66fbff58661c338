"""The database connections in use, counted as the pool hands them out and takes them back."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from dreamlust.observability.metrics import DB_POOL_IN_USE


def watch_pool_usage(engine: AsyncEngine) -> None:
    """Keep `DB_POOL_IN_USE` current for `engine`'s pool (a checkin follows every
    checkout, also of a connection that was invalidated meanwhile)."""
    event.listen(engine.sync_engine, "checkout", _checked_out)
    event.listen(engine.sync_engine, "checkin", _checked_in)


def _checked_out(*_args: Any) -> None:
    DB_POOL_IN_USE.inc()


def _checked_in(*_args: Any) -> None:
    DB_POOL_IN_USE.dec()
