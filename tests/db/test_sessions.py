"""Read sessions run each statement on its own; write sessions run in one transaction."""

import pytest
from sqlalchemy import text

from dreamlust.db import Database

pytestmark = pytest.mark.postgresql_only

_TRANSACTION = text("SELECT txid_current()")
_ISOLATION = text("SELECT current_setting('transaction_isolation')")


async def test_a_read_session_runs_each_statement_in_a_transaction_of_its_own(
    database: Database,
) -> None:
    async with database.session(write=False) as session:
        first = await session.scalar(_TRANSACTION)
        second = await session.scalar(_TRANSACTION)
    assert first != second


async def test_a_write_session_runs_in_one_read_committed_transaction(database: Database) -> None:
    async with database.transaction() as session:
        first = await session.scalar(_TRANSACTION)
        second = await session.scalar(_TRANSACTION)
        isolation = await session.scalar(_ISOLATION)
    assert first == second
    assert isolation == "read committed"


async def test_a_write_sessions_connection_goes_back_to_the_pool_in_autocommit(
    database: Database,
) -> None:
    async with database.transaction() as session:
        await session.scalar(_TRANSACTION)
    async with database.engine.connect() as connection:
        first = await connection.scalar(_TRANSACTION)
        second = await connection.scalar(_TRANSACTION)
    assert first != second
