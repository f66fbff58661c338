"""Card reads sent straight to the driver: the rows SQLAlchemy would give, seen by the
engine's listeners, through SQLAlchemy inside a transaction, and a driver's error raised
as SQLAlchemy raises it."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import pytest
from sqlalchemy import Float, Row, Select, bindparam, event, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.content.cards import select_cards
from dreamlust.db import Database
from dreamlust.kit.compiled_once import DriverRecord, fetch_rows
from dreamlust.models import Content
from dreamlust.models.enums import ContentStatus
from tests.conftest import StatementCounter
from tests.fixtures.factories import make_category, make_content, make_creator, make_tag

_ID = bindparam("card_id")


def _card_of(session: AsyncSession) -> Select[Any]:
    dialect = session.bind.dialect.name
    return select_cards(dialect).where(Content.id == _ID, Content.status == ContentStatus.PUBLISHED)


async def _item(session: AsyncSession) -> uuid.UUID:
    creator = await make_creator(session)
    category, tag = await make_category(session), await make_tag(session)
    item = await make_content(session, creator, categories=[category], tags=[tag])
    return item.id


async def test_a_read_gives_the_rows_sqlalchemy_gives_and_listeners_see_it(
    database: Database, count_statements: StatementCounter
) -> None:
    async with database.transaction() as session:
        item_id = await _item(session)
    async with database.session(write=False) as session:
        statement = _card_of(session)
        expected = (
            await (await session.connection()).execute(statement, {"card_id": item_id})
        ).one()
        count_statements.clear()

        [row] = await fetch_rows(session, statement, {"card_id": item_id}, built_once=True)

    on_driver = not database.is_sqlite
    assert isinstance(row, DriverRecord if on_driver else Row)
    assert row._fields == expected._fields
    assert tuple(row) == tuple(expected)
    assert (row.id, row.title, row.categories, row.tags) == (
        item_id,
        expected.title,
        expected.categories,
        expected.tags,
    )
    assert row.categories  # the JSON arrays arrive decoded
    assert row.tags
    with pytest.raises(AttributeError):
        _ = row.no_such_column
    assert count_statements.count == 1
    assert "FROM content" in count_statements.statements[0]


async def test_in_a_transaction_the_read_goes_through_sqlalchemy_and_sees_its_writes(
    database: Database,
) -> None:
    async with database.transaction() as session:
        item_id = await _item(session)  # not committed yet

        [row] = await fetch_rows(session, _card_of(session), {"card_id": item_id}, built_once=True)

        assert isinstance(row, Row)
        assert row.id == item_id
        await session.rollback()


async def test_a_statement_completed_at_execution_goes_through_sqlalchemy(
    database: Database,
) -> None:
    async with database.transaction() as session:
        ids = [await _item(session), await _item(session)]
    async with database.session(write=False) as session:
        dialect = session.bind.dialect.name
        expanding = select_cards(dialect).where(Content.id.in_(bindparam("ids", expanding=True)))

        rows = await fetch_rows(session, expanding, {"ids": ids}, built_once=True)

    assert sorted(row.id for row in rows) == sorted(ids)
    assert all(isinstance(row, Row) for row in rows)


async def test_a_statement_built_for_the_request_goes_through_sqlalchemy(
    database: Database,
) -> None:
    async with database.transaction() as session:
        item_id = await _item(session)
    async with database.session(write=False) as session:
        statement = _card_of(session).limit(1)  # a new statement, as a per-request list's

        [row] = await fetch_rows(session, statement, {"card_id": item_id}, built_once=False)

    assert isinstance(row, Row)
    assert row.id == item_id


@pytest.mark.postgresql_only
async def test_a_lost_connection_is_raised_as_sqlalchemy_raises_it(database: Database) -> None:
    async with database.transaction() as session:
        item_id = await _item(session)
    async with database.session(write=False) as session:
        connection = await session.connection()
        backend = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with database.session(write=False) as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})

        with pytest.raises(DBAPIError) as raised:
            await fetch_rows(session, _card_of(session), {"card_id": item_id}, built_once=True)

    assert raised.value.connection_invalidated  # the pool lets the connection go
    async with database.session(write=False) as session:
        [row] = await fetch_rows(session, _card_of(session), {"card_id": item_id}, built_once=True)
    assert row.id == item_id


_SECONDS = bindparam("seconds", type_=Float)
_SLEEPING = select(func.pg_sleep(_SECONDS))  # built once, as the card statements are


@pytest.mark.postgresql_only
async def test_a_session_without_a_connection_reads_on_one_borrowed_for_the_statement(
    database: Database, count_statements: StatementCounter
) -> None:
    async with database.transaction() as session:
        item_id = await _item(session)
    pool = database.engine.sync_engine.pool
    count_statements.clear()
    async with database.session(write=False) as session:
        [row] = await fetch_rows(session, _card_of(session), {"card_id": item_id}, built_once=True)

        assert not session.in_transaction()  # the session took no connection
        assert pool.checkedout() == 0  # and the borrowed one is back in the pool

    assert isinstance(row, DriverRecord)
    assert row.id == item_id
    assert count_statements.count == 1  # the listeners saw it
    assert count_statements.in_transaction == [False]


@pytest.mark.postgresql_only
async def test_a_read_cancelled_midway_throws_its_borrowed_connection_away(
    database: Database,
) -> None:
    pool = database.engine.sync_engine.pool
    discarded: list[object] = []
    event.listen(pool, "invalidate", lambda *args: discarded.append(args))
    async with database.session(write=False) as session:
        reading = asyncio.create_task(
            fetch_rows(session, _SLEEPING, {"seconds": 30}, built_once=True)
        )
        await asyncio.sleep(0.3)
        reading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await reading

    assert len(discarded) == 1  # not handed back in the middle of its statement
    assert pool.checkedout() == 0
    async with database.session(write=False) as session:
        assert len(await fetch_rows(session, _SLEEPING, {"seconds": 0}, built_once=True)) == 1


@pytest.mark.postgresql_only
async def test_borrowed_connections_the_pool_cannot_keep_are_closed(settings: Settings) -> None:
    database = Database(settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 4}))
    drivers: list[asyncpg.Connection] = []

    def note(connection: Connection, *_args: object) -> None:
        drivers.append(connection.connection.driver_connection)

    event.listen(database.engine.sync_engine, "before_cursor_execute", note)
    try:

        async def read() -> None:
            async with database.session(write=False) as session:
                await fetch_rows(session, _SLEEPING, {"seconds": 0.3}, built_once=True)

        await asyncio.gather(*(read() for _ in range(5)))  # five at once: four overflow

        assert len(set(drivers)) == 5
        assert database.engine.sync_engine.pool.checkedout() == 0
        assert sorted(driver.is_closed() for driver in drivers) == [False, True, True, True, True]
    finally:
        await database.dispose()
