"""The purge: every kind of row, batch by batch, each batch one transaction.

A batch takes up to `batch_size` purgeable rows of one table, locked so that a second
purge running at once (another worker) skips them (`FOR UPDATE SKIP LOCKED` on
PostgreSQL; SQLite runs one writer at a time), corrects the counters outside them,
deletes them and, once that has committed, deletes the files of the media assets that
went with them. A file whose delete fails after the commit is left without a row, which
`dreamlust media gc` removes. The ledger (transactions) is never deleted: it keeps its
rows with the links to purged accounts, creators and content set to NULL.

A dry run counts, table by table, the rows the purge would remove now; their dependants
go with them.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.kit.after_commit import after_commit
from dreamlust.kit.clock import utcnow
from dreamlust.media.files import delete_files_of
from dreamlust.media.storage import Storage, create_storage
from dreamlust.models import Category, Comment, Content, Creator, Playlist, User
from dreamlust.purge import expiry, removal

Condition = Callable[[datetime], ColumnElement[bool]]
Removal = Callable[[AsyncSession, removal.Ids], Awaitable[list[uuid.UUID]]]


@dataclass(frozen=True)
class Step:
    """One table: the rows a dry run counts, those a batch may take now (their
    dependants already gone), and how they go."""

    table: str
    model: type[Any]
    purgeable: Condition
    ready: Condition
    remove: Removal


STEPS = (
    Step(
        "comments",
        Comment,
        expiry.comments,
        expiry.comments_without_replies,
        removal.remove_comments,
    ),
    Step("playlists", Playlist, expiry.playlists, expiry.playlists, removal.remove_playlists),
    Step("content", Content, expiry.content, expiry.content, removal.remove_content),
    Step(
        "creators",
        Creator,
        expiry.creators,
        expiry.creators_without_content,
        removal.remove_creators,
    ),
    Step("users", User, expiry.users, expiry.users_without_creator, removal.remove_users),
    Step("categories", Category, expiry.categories, expiry.categories, removal.remove_categories),
)


@dataclass
class PurgeReport:
    """Rows removed (or, in a dry run, to remove) per table, and media assets whose files
    were deleted."""

    dry_run: bool
    rows: dict[str, int]
    assets: int = 0

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def lines(self) -> list[str]:
        verb = "to purge" if self.dry_run else "purged"
        lines = [f"{table:>12}: {count} {verb}" for table, count in self.rows.items()]
        if not self.dry_run:
            lines.append(f"{'media files':>12}: of {self.assets} asset(s) deleted")
        return lines


async def run(settings: Settings, *, dry_run: bool) -> PurgeReport:
    """`dreamlust purge [--dry-run]`: what was deleted longer ago than the retention."""
    database = Database(settings)
    storage = create_storage(settings)
    cutoff = utcnow() - settings.soft_delete_retention
    try:
        if dry_run:
            return await count(database, cutoff=cutoff)
        return await purge(database, storage, cutoff=cutoff, batch_size=settings.purge_batch_size)
    finally:
        await storage.aclose()
        await database.dispose()


async def purge(
    database: Database, storage: Storage, *, cutoff: datetime, batch_size: int
) -> PurgeReport:
    report = PurgeReport(dry_run=False, rows={})
    for step in STEPS:
        report.rows[step.table] = 0
        while removed := await _purge_batch(database, storage, step, cutoff, batch_size, report):
            report.rows[step.table] += removed
    return report


async def count(database: Database, *, cutoff: datetime) -> PurgeReport:
    """What `purge` would remove now; nothing changes."""
    async with database.transaction(write=False) as session:
        rows = {
            step.table: await session.scalar(
                select(func.count()).select_from(step.model).where(step.purgeable(cutoff)),
                execution_options=removal.EVERY_ROW,
            )
            or 0
            for step in STEPS
        }
    return PurgeReport(dry_run=True, rows=rows)


async def _purge_batch(
    database: Database,
    storage: Storage,
    step: Step,
    cutoff: datetime,
    batch_size: int,
    report: PurgeReport,
) -> int:
    async with database.transaction() as session:
        ids = list(
            await session.scalars(
                select(step.model.id)
                .where(step.ready(cutoff))
                .order_by(step.model.id)
                .limit(batch_size)
                .with_for_update(skip_locked=True),
                execution_options=removal.EVERY_ROW,
            )
        )
        if not ids:
            return 0
        assets = await step.remove(session, ids)
        if assets:
            report.assets += len(assets)
            after_commit(session, functools.partial(delete_files_of, storage, assets))
    return len(ids)
