"""`dreamlust recount` knows the moderation counters: a case's report count and score,
and each reporter's closed and upheld reports. After real reports and a decision through
the API there is no drift; a corrupted one is found and rebuilt from the reports."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.counters import recount
from dreamlust.db import Database
from dreamlust.models import ModerationCase
from dreamlust.runtime import Runtime
from tests.counters.world import set_counter, stored_counters
from tests.fixtures.accounts import make_account
from tests.fixtures.moderation import decided, moderator, published, reported

MODERATION_COUNTERS = (
    "moderation_cases.report_count",
    "moderation_cases.score",
    "reporter_records.closed_reports",
    "reporter_records.upheld_reports",
)


async def _drift(database: Database) -> dict[str, tuple[int, int]]:
    async with database.transaction(write=False) as session:
        drifts = await recount.check(session)
    return {d.counter: (d.rows, d.difference) for d in drifts if d.counter in MODERATION_COUNTERS}


async def test_moderation_counters_have_no_drift_and_a_corrupted_one_is_rebuilt(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, database: Database
) -> None:
    closed_item, _ = await published(session)
    open_item, _ = await published(session)
    staff = await moderator(session)
    reporters = [await make_account(session) for _ in range(3)]
    first = [await reported(client, runtime, r, "content", closed_item.id) for r in reporters]
    await decided(client, runtime, staff, first[0]["id"], "ACTION_TAKEN", action="hide_content")
    for reporter in reporters[:2]:
        await reported(client, runtime, reporter, "content", open_item.id)
    assert await _drift(database) == dict.fromkeys(MODERATION_COUNTERS, (0, 0))

    before = await stored_counters(database)
    open_case = await session.scalar(
        ModerationCase.__table__.select()
        .with_only_columns(ModerationCase.id)
        .where(ModerationCase.target_id == open_item.id)
    )
    await session.commit()
    assert open_case is not None
    await set_counter(database, "moderation_cases.report_count", open_case, 7)
    await set_counter(database, "moderation_cases.score", open_case, 0)
    await set_counter(database, "reporter_records.upheld_reports", reporters[2].id, 0)

    drift = await _drift(database)
    assert drift["moderation_cases.report_count"] == (1, 5)
    assert drift["moderation_cases.score"][0] == 1
    assert drift["reporter_records.upheld_reports"] == (1, 1)
    async with database.transaction() as transaction:
        await recount.recount(transaction)
    assert await stored_counters(database) == before
