"""Statements built once, compiled once and sent straight to asyncpg where that is safe.

SQLAlchemy's execution of a compiled statement on asyncpg (its greenlet hops, an
execution context, a cursor adapter, a result) costs about 130 µs of CPU beyond what
asyncpg spends on the statement itself: on a content detail, a fifth of the request.
The card statements are built once per shape (`content/repository.py`), and so is the
statement that records a view without Redis (`views/repository.py`); here each is
compiled once, and run on a PostgreSQL connection in autocommit (every read-only
request's, and a view's) its SQL goes to asyncpg, with the parameters in order,
converted as SQLAlchemy would: on the session's connection when it holds one, else on
one borrowed from the engine's pool for the statement alone (the session then never
takes one: a request that reads one card pays for no checkout through the session and
its return). The rows are asyncpg's records, read by attribute and by position like
SQLAlchemy's rows.

What SQLAlchemy gives every statement still holds for these:
- the engine's `before_cursor_execute` and `after_cursor_execute` listeners see the
  statement and its parameters (the slow-statement log, the tests' statement counts);
- an error of the driver is not raised as it is: the statement is run again through
  SQLAlchemy, which raises and handles what it meets as it does for every statement (a
  lost connection invalidates the pool and answers 503); a borrowed connection the
  driver failed on, or whose statement was cancelled midway, is thrown away, not handed
  back. A statement may be run twice, so one that writes must be idempotent: the
  view's is (run again, it finds the viewer's mark it moved, and counts nothing).

In a transaction (the card a write answers with) the statement goes through SQLAlchemy,
which sends BEGIN first; so does every statement on SQLite, one SQLAlchemy must complete
at execution (an expanding IN), and one built for the request (the lists a user keeps:
likes, history, playlists), whose compiled form only SQLAlchemy's cache can find again.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpg
from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import await_only, greenlet_spawn


class Record(Protocol):
    """A row whose columns are read as attributes or in order, `_fields` naming them:
    SQLAlchemy's `Row`, or a `DriverRecord`."""

    @property
    def _fields(self) -> tuple[str, ...]: ...

    def __getattr__(self, name: str) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class DriverRecord(asyncpg.Record):  # type: ignore[misc]
    """asyncpg's record, read the way SQLAlchemy's rows are."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _fields(self) -> tuple[str, ...]:
        return tuple(self.keys())


@dataclass(frozen=True)
class _Compiled:
    compiled: SQLCompiler
    sql: str
    converters: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    def arguments(self, params: dict[str, Any]) -> list[Any]:
        values = self.compiled.construct_params(params)
        return [
            values[name] if convert is None else convert(values[name])
            for name, convert in self.converters
        ]


class _DriverContext:
    """The execution context the cursor listeners are handed (one that holds no more
    than what they set on it)."""


@functools.cache
def _compiled(statement: Select[Any], dialect: Dialect) -> _Compiled | None:
    """`statement` compiled for `dialect`, with each parameter's conversion; None when
    its SQL is only complete at execution."""
    compiled = statement.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
        return None
    if compiled.literal_execute_params or compiled.post_compile_params:
        return None
    converters = tuple(
        (name, compiled.binds[name].type.bind_processor(dialect)) for name in compiled.positiontup
    )
    return _Compiled(compiled, compiled.string, converters)


async def fetch_rows(
    session: AsyncSession, statement: Select[Any], params: dict[str, Any], *, built_once: bool
) -> Sequence[Record]:
    """The rows of `statement`, a statement that states every condition itself (soft
    delete included) and, if it writes, may be run twice (see the module's docstring):
    the ORM's execution path, which adds the soft-delete criteria to a copy of each
    statement and computes that copy's cache key anew, is left out.

    Only a statement `built_once` (one of a bounded set, run with each request's
    parameters) goes to the driver, its compiled SQL kept for the next time. One built
    for the request goes through SQLAlchemy, whose cache finds its compiled form by its
    structure: compiled here, it would be compiled anew each time, and kept.

    A session that holds no connection yet and would run in autocommit does not take
    one for such a statement: the statement runs on a connection borrowed from the
    engine's pool for it alone, and the session stays without one (a checkout through
    the session and its return cost about 60 µs of CPU, a borrowed one about 20)."""
    if built_once and not session.in_transaction():
        engine = _autocommit_engine(session)
        compiled = _compiled(statement, engine.dialect) if engine is not None else None
        if engine is not None and compiled is not None:
            rows = await _on_borrowed_connection(engine, compiled, params)
            if rows is not None:
                return rows
            # Run again, for SQLAlchemy to raise it as it does any statement's.
            return await _through_sqlalchemy(await session.connection(), statement, params)
    connection = await session.connection()
    driver = _autocommit_driver(connection) if built_once else None
    compiled = _compiled(statement, connection.dialect) if driver is not None else None
    if compiled is None:
        return await _through_sqlalchemy(connection, statement, params)
    arguments = compiled.arguments(params)
    try:
        sync = connection.sync_connection
        assert sync is not None  # a session's connection is started
        return await _fetch(sync, sync.dispatch, driver, compiled.sql, arguments)
    except Exception:  # run again, for SQLAlchemy to raise it as it does any statement's
        return await _through_sqlalchemy(connection, statement, params)


def _autocommit_engine(session: AsyncSession) -> AsyncEngine | None:
    """The session's engine when its statements run on asyncpg in autocommit (a session
    that writes asks its connections for an isolation level)."""
    engine = session.bind
    if isinstance(engine, AsyncEngine) and _in_autocommit_on_asyncpg(engine):
        return engine
    return None


@functools.lru_cache(maxsize=32)
def _in_autocommit_on_asyncpg(engine: AsyncEngine) -> bool:
    """Asked once per engine (an engine's dialect and options never change)."""
    return (
        engine.dialect.driver == "asyncpg"
        and engine.get_execution_options().get("isolation_level") is None
    )


async def _on_borrowed_connection(
    engine: AsyncEngine, compiled: _Compiled, params: dict[str, Any]
) -> Sequence[Record] | None:
    """The rows of the `compiled` statement run on a connection borrowed from `engine`'s
    pool and handed back; None when the server refused the connection or the driver
    failed on it (the connection is then thrown away), for the caller to run the
    statement through the session, which raises and handles a failure as SQLAlchemy
    does. A full pool's timeout and an unreachable server are raised as they are, as
    through the session.

    All of it runs in one greenlet: the pool may wait for a connection or open one when
    it lends it, and close one it cannot keep (overflow, or invalidated) when it is
    handed back, each through the driver. (A greenlet apiece for the checkout and the
    return cost about 15 µs of CPU more.)"""
    return await greenlet_spawn(_borrowed_fetch, engine.sync_engine, compiled, params)


def _borrowed_fetch(
    engine: Engine, compiled: _Compiled, params: dict[str, Any]
) -> Sequence[Record] | None:
    try:
        pooled = engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error:
        return None
    try:
        if not pooled.dbapi_connection.autocommit:  # type: ignore[union-attr]
            return None
        # A connection around it, for the listeners: no checkout, nothing to close. It
        # joins no events of its own (a fresh one can have none): the engine's are told.
        connection = Connection(engine, connection=pooled, _has_events=False)
        fetch = _fetch(
            connection,
            engine.dispatch,
            pooled.driver_connection,
            compiled.sql,
            compiled.arguments(params),
        )
        rows: Sequence[Record] = await_only(fetch)
        return rows
    except Exception:
        pooled.invalidate()
        return None
    except BaseException:  # cancelled in the middle of the statement
        pooled.invalidate()
        raise
    finally:
        pooled.close()


async def _through_sqlalchemy(
    connection: AsyncConnection, statement: Select[Any], params: dict[str, Any]
) -> Sequence[Record]:
    rows: Sequence[Record] = (await connection.execute(statement, params)).all()
    return rows


def _autocommit_driver(connection: AsyncConnection) -> Any | None:
    """The asyncpg connection under `connection` when it runs each statement on its own."""
    sync = connection.sync_connection
    if connection.dialect.driver != "asyncpg" or sync is None or sync.invalidated:
        return None
    raw = sync.connection  # checked out and valid: no I/O to reach it
    autocommit = raw.dbapi_connection is not None and raw.dbapi_connection.autocommit
    return raw.driver_connection if autocommit else None


async def _fetch(
    connection: Connection,
    dispatch: Any,
    driver: Any,
    sql: str,
    arguments: list[Any],
) -> Sequence[Record]:
    """`sql` run by the driver, the cursor listeners of `dispatch` told about it."""
    context = _DriverContext()
    dispatch.before_cursor_execute(connection, None, sql, arguments, context, False)
    records: list[DriverRecord] = await driver.fetch(sql, *arguments, record_class=DriverRecord)
    dispatch.after_cursor_execute(connection, None, sql, arguments, context, False)
    return records
