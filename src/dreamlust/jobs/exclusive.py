"""One run of a job at a time across every worker: a PostgreSQL advisory lock held for
the run, on a connection of its own in autocommit (no transaction stays open while the
job works). A worker that finds the lock taken skips that run. SQLite needs none: its
one writer at a time already serializes the jobs' transactions."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from dreamlust.db import Database

_LOCK = text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (advisory locks are keyed by bigint)."""
    digest = hashlib.blake2b(f"dreamlust:job:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@asynccontextmanager
async def exclusive(database: Database, name: str) -> AsyncIterator[bool]:
    """True inside when this process holds the job's lock (always on SQLite)."""
    if database.is_sqlite:
        yield True
        return
    key = {"key": lock_key(name)}
    async with database.engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        acquired = bool(await connection.scalar(_LOCK, key))
        try:
            yield acquired
        finally:
            if acquired:
                await connection.execute(_UNLOCK, key)
