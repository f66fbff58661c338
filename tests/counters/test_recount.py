"""`dreamlust recount`: every denormalized counter rebuilt from the rows it counts, the
drift reported, and `--check` changing nothing."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from click.testing import Result
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dreamlust.config import Settings
from dreamlust.content.visibility import Viewer
from dreamlust.counters import recount
from dreamlust.counters.definitions import COUNTERS
from dreamlust.db import Database
from dreamlust.engagement import service as engagement
from dreamlust.kit.clock import utcnow
from dreamlust.models import Comment, Content, Creator, Tag, User
from dreamlust.seeding import seed_database
from tests.counters.world import (
    Stored,
    build_world,
    set_counter,
    stored_counters,
    value_of,
)
from tests.fixtures.cli import Invoke
from tests.fixtures.factories import make_user

NO_DRIFT = {counter.name: (0, 0) for counter in COUNTERS}


@pytest.fixture
def recount_cli(dreamlust_cli: Invoke) -> Invoke:
    """Run `dreamlust recount ARGS` against the test database, as a shell would."""

    async def invoke(*args: str) -> Result:
        return await dreamlust_cli("recount", *args)

    return invoke


def reported(output: str) -> dict[str, tuple[int, int]]:
    """The drift table of the output: counter → (rows off, total difference)."""
    table = {}
    for line in output.splitlines():
        name, *numbers = line.split()
        if len(numbers) == 2 and all(number.isdigit() for number in numbers):
            table[name] = (int(numbers[0]), int(numbers[1]))
    return table


def as_table(drifts: list[recount.Drift]) -> dict[str, tuple[int, int]]:
    return {drift.counter: (drift.rows, drift.difference) for drift in drifts}


def expected_values(stored: Stored, expected: dict[str, dict[uuid.UUID, int]]) -> Stored:
    """Every stored counter as it should be: its value in `expected`, else zero."""
    return {(name, owner): expected.get(name, {}).get(owner, 0) for name, owner in stored}


async def test_recount_rebuilds_every_counter_from_the_rows_it_counts(
    session: AsyncSession, database: Database
) -> None:
    world = await build_world(session)
    await session.commit()

    async with database.transaction() as transaction:
        drifts = await recount.recount(transaction)

    stored = await stored_counters(database)
    assert stored == expected_values(stored, world.expected)
    assert as_table(drifts) == {
        name: (sum(1 for value in values.values() if value), sum(values.values()))
        for name, values in world.expected.items()
    }


async def test_check_reports_exactly_the_corrupted_counters_and_recount_fixes_them(
    session: AsyncSession, database: Database, recount_cli: Invoke
) -> None:
    world = await build_world(session)
    await session.commit()
    async with database.transaction() as transaction:
        await recount.recount(transaction)
    for name, owner, value in (
        ("content.view_count", world.clip, 10),
        ("content.view_count", world.removed_clip, 0),
        ("creators.total_likes", world.star, 99),
        ("creators.content_count", world.newcomer, 0),
        ("comments.reply_count", world.tombstone, 0),
        ("playlists.item_count", world.playlist, 5),
        ("tags.usage_count", world.popular_tag, 1),
    ):
        await set_counter(database, name, owner, value)
    corrupted = await stored_counters(database)
    drift = NO_DRIFT | {
        "content.view_count": (2, 7 + 2),
        "creators.total_likes": (1, 96),
        "creators.content_count": (1, 1),
        "comments.reply_count": (1, 1),
        "playlists.item_count": (1, 3),
        "tags.usage_count": (1, 1),
    }

    checked = await recount_cli("--check")

    assert checked.exit_code == 1, checked.output
    assert reported(checked.output) == drift
    assert await stored_counters(database) == corrupted

    fixed = await recount_cli()

    assert fixed.exit_code == 0, fixed.output
    assert reported(fixed.output) == drift
    stored = await stored_counters(database)
    assert stored == expected_values(stored, world.expected)

    rechecked = await recount_cli("--check")

    assert rechecked.exit_code == 0, rechecked.output
    assert reported(rechecked.output) == NO_DRIFT
    assert "No drift." in rechecked.output


async def test_the_seeded_counters_have_no_drift_and_corruption_is_found_and_fixed(
    settings: Settings, database: Database, recount_cli: Invoke
) -> None:
    await seed_database(settings, scale=1, random_seed=7)

    seeded = await recount_cli("--check")

    assert seeded.exit_code == 0, seeded.output
    assert reported(seeded.output) == NO_DRIFT

    exact = await stored_counters(database)
    async with database.transaction(write=False) as session:
        watched = await _highest(session, Content.id, Content.view_count)
        liked = await _highest(session, Creator.id, Creator.total_likes)
        answered = await _highest(session, Comment.id, Comment.reply_count)
        tag = await _highest(session, Tag.id, Tag.usage_count)
    views = exact[("content.view_count", watched)]
    likes = exact[("creators.total_likes", liked)]
    replies = exact[("comments.reply_count", answered)]
    uses = exact[("tags.usage_count", tag)]
    await set_counter(database, "content.view_count", watched, views + 4)
    await set_counter(database, "creators.total_likes", liked, 0)
    await set_counter(database, "comments.reply_count", answered, 0)
    await set_counter(database, "tags.usage_count", tag, uses + 1000)
    corrupted = await stored_counters(database)
    drift = NO_DRIFT | {
        "content.view_count": (1, 4),
        "creators.total_likes": (1, likes),
        "comments.reply_count": (1, replies),
        "tags.usage_count": (1, 1000),
    }

    async with database.transaction() as session:
        checked = await recount.check(session)

    assert likes > 0
    assert replies > 0
    assert as_table(checked) == drift
    assert await stored_counters(database) == corrupted

    async with database.transaction() as session:
        fixed = await recount.recount(session)

    assert as_table(fixed) == drift
    assert await stored_counters(database) == exact
    async with database.transaction() as session:
        assert as_table(await recount.check(session)) == NO_DRIFT


async def test_a_like_committed_while_the_recount_waits_for_its_row_is_kept(
    session: AsyncSession, database: Database, settings: Settings
) -> None:
    world = await build_world(session)
    late_fan = await make_user(session)
    await session.commit()
    async with database.transaction() as transaction:
        await recount.recount(transaction)
    await set_counter(database, "content.like_count", world.clip, 40)

    async with database.session() as liking:
        fan = Viewer.of(await liking.get_one(User, late_fan.id), utcnow().date())
        await engagement.like(liking, fan, world.clip)
        running = asyncio.create_task(recount.run(settings, check_only=False))
        await _until_waiting_for_a_lock(database, running)
        await liking.commit()
    drifts = as_table(await running)

    assert drifts["content.like_count"] == (1, 40 - 2)
    assert await value_of(database, "content.like_count", world.clip) == 3
    assert await value_of(database, "creators.total_likes", world.star) == 4
    async with database.transaction() as transaction:
        assert as_table(await recount.check(transaction)) == NO_DRIFT


async def _until_waiting_for_a_lock(database: Database, task: asyncio.Task[object]) -> None:
    """Until the recount waits for the row the open like holds."""
    if database.is_sqlite:
        # SQLite shows no waiters: give the recount time to queue for the write lock.
        await asyncio.sleep(0.2)
        assert not task.done()
        return
    for _ in range(500):
        assert not task.done()
        async with database.engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the recount never waited for the liked row")


async def _highest(
    session: AsyncSession,
    key: InstrumentedAttribute[uuid.UUID],
    counter: InstrumentedAttribute[int],
) -> uuid.UUID:
    """The id of the row whose counter is highest."""
    return (await session.scalars(select(key).order_by(counter.desc()).limit(1))).one()
