"""Writes the demo data set into the database with Core bulk inserts."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.auth.passwords import hash_password
from dreamlust.config import Settings
from dreamlust.db import INCLUDE_DELETED, Database
from dreamlust.models import User
from dreamlust.search import index as search_index
from dreamlust.seeding.catalog import ADMIN_USERNAME, DEMO_PASSWORD
from dreamlust.seeding.context import SeedContext
from dreamlust.seeding.pipeline import Batch, demo_batches

logger = logging.getLogger(__name__)

DEFAULT_RANDOM_SEED = 42
INSERT_CHUNK = 5_000


class DatabaseNotEmpty(RuntimeError):
    """Demo data goes only into a database that has no users yet."""


async def seed_database(settings: Settings, *, scale: int, random_seed: int) -> dict[str, int]:
    """Load the demo data set of this `scale`; the same seed gives the same rows.

    Returns how many rows went into each table. Refuses a database that has users.
    """
    if scale < 1:
        raise ValueError("scale must be at least 1")
    started = time.perf_counter()
    database = Database(settings)
    try:
        async with database.transaction() as session:
            if await _has_users(session):
                raise DatabaseNotEmpty("the database already has users; seed an empty database")
            password_hash = await hash_password(DEMO_PASSWORD)
            ctx = SeedContext.create(
                scale=scale, random_seed=random_seed, password_hash=password_hash
            )
            summary = await _insert_all(session, demo_batches(ctx))
            await search_index.rebuild(session)
    finally:
        await database.dispose()
    logger.info(
        "Loaded %d demo rows (scale %d, seed %d) in %.1f s",
        sum(summary.values()),
        scale,
        random_seed,
        time.perf_counter() - started,
    )
    return summary


async def seed_if_empty(settings: Settings) -> None:
    """Load the scale-1 demo data set into a database without users; leave others alone."""
    try:
        summary = await seed_database(settings, scale=1, random_seed=DEFAULT_RANDOM_SEED)
    except DatabaseNotEmpty:
        logger.info("The database already has users; demo data not loaded")
        return
    logger.info(
        "Demo data loaded (%s); sign in as %r with the demo password",
        ", ".join(f"{count} {table}" for table, count in summary.items()),
        ADMIN_USERNAME,
    )


async def _has_users(session: AsyncSession) -> bool:
    stmt = select(User.id).limit(1).execution_options(**{INCLUDE_DELETED: True})
    return (await session.scalar(stmt)) is not None


async def _insert_all(session: AsyncSession, batches: Iterable[Batch]) -> dict[str, int]:
    summary: dict[str, int] = {}
    for table, rows in batches:
        statement = insert(table)
        for start in range(0, len(rows), INSERT_CHUNK):
            await session.execute(statement, rows[start : start + INSERT_CHUNK])
        summary[table.name] = summary.get(table.name, 0) + len(rows)
    return summary
