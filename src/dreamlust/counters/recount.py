"""Rebuild every denormalized counter from the rows it counts, in set-based SQL.

Per counter, one statement compares the whole owner table with one grouped pass over
the source rows (owners without source rows count zero), and, only when that finds
drift, one UPDATE … FROM corrects the rows that are off. Rows without drift are not
written, so the recount locks only the rows it corrects. Deleted rows are neither
hidden nor shown by the session's soft-delete filter: every condition on `deleted_at`
is spelled out in the definitions.

Guarantees under concurrent writers. The recount is one transaction: every counter is
corrected, or none is.
- SQLite: the transaction takes the write lock first (BEGIN IMMEDIATE), so writers wait
  and the counters are exact when it commits.
- PostgreSQL (READ COMMITTED): each UPDATE reads the counts and the stored values in
  the snapshot of its start, and adds the drift it finds (count - stored) to the
  counter's *current* value rather than overwriting it with the count. Writers move a
  counter in the transaction that adds or removes its rows, so a commit changes count
  and counter alike and leaves the drift as it was; when such a commit lands after the
  snapshot, the UPDATE waits for the row, re-reads it and adds the drift to the value
  the writer left. No concurrent increment is lost or counted twice.
- `--check` reads one snapshot (REPEATABLE READ, READ ONLY on PostgreSQL) and writes
  nothing.
Views buffered in Redis are neither rows nor counted until the worker's flush stores
both in one transaction, so they cause no drift. Counters are corrected in the order of
`COUNTERS`: creators, then content, then comments, the order in which likes, views and
comments lock them. A writer taking another order (deleting content moves tags before
its creator) may still deadlock with a recount that corrects both; PostgreSQL then
aborts one of them, and the recount can simply be run again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, Subquery, Update, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dreamlust.config import Settings
from dreamlust.counters.definitions import COUNTERS, Counter
from dreamlust.db import INCLUDE_DELETED, Database

_EVERY_ROW = {INCLUDE_DELETED: True}
_SNAPSHOT = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


@dataclass(frozen=True)
class Drift:
    """How far one counter was off: in how many rows, and by how much in total."""

    counter: str
    rows: int
    difference: int


async def check(session: AsyncSession) -> list[Drift]:
    """The drift of every counter; nothing changes."""
    return [await _measure(session, counter) for counter in COUNTERS]


async def recount(session: AsyncSession) -> list[Drift]:
    """Correct every counter; the drift it corrected."""
    drifts = []
    for counter in COUNTERS:
        drift = await _measure(session, counter)
        if drift.rows:
            await session.execute(_correction(counter), execution_options=_EVERY_ROW)
        drifts.append(drift)
    return drifts


async def run(settings: Settings, *, check_only: bool) -> list[Drift]:
    """`dreamlust recount`: one transaction over the whole database."""
    database = Database(settings)
    try:
        async with database.session(write=not check_only) as session, session.begin():
            if check_only:
                if not database.is_sqlite:
                    await session.connection(execution_options=_SNAPSHOT)
                return await check(session)
            return await recount(session)
    finally:
        await database.dispose()


def _compared(counter: Counter) -> Subquery:
    """Every owner row's id, its stored counter and the count of its source rows."""
    owner = aliased(counter.owner)
    key = getattr(owner, counter.owner_key)
    tally = counter.tally.subquery()
    owner_id, count = tally.c
    return (
        select(
            key.label("id"),
            getattr(owner, counter.column.key).label("stored"),
            func.coalesce(count, 0).label("actual"),
        )
        .outerjoin_from(owner, tally, owner_id == key)
        .subquery()
    )


def _drift_query(counter: Counter) -> Select[int, int]:
    compared = _compared(counter)
    gap = compared.c.actual - compared.c.stored
    return select(func.count(), func.coalesce(func.sum(func.abs(gap)), 0)).where(gap != 0)


async def _measure(session: AsyncSession, counter: Counter) -> Drift:
    result = await session.execute(_drift_query(counter), execution_options=_EVERY_ROW)
    rows, difference = result.one()
    return Drift(counter.name, int(rows), int(difference))


def _correction(counter: Counter) -> Update:
    """Add each drifting row's gap to its current value (see the module docstring)."""
    owner = counter.owner
    compared = _compared(counter)
    gap = compared.c.actual - compared.c.stored
    values = {counter.column: counter.column + gap}
    if "updated_at" in owner.__table__.c:
        # A repaired counter is not an edit of the row.
        values[owner.updated_at] = owner.updated_at
    return (
        update(owner)
        .where(getattr(owner, counter.owner_key) == compared.c.id, gap != 0)
        .values(values)
        .execution_options(synchronize_session=False)
    )
