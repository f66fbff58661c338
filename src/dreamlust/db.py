"""Engine and sessions: one transaction per request, committed on success.

SQLite runs in WAL mode with foreign keys on and a busy timeout. Requests that may
write open their transaction with `BEGIN IMMEDIATE`, so two writers queue on the
write lock instead of failing when one tries to upgrade a stale read snapshot.

On PostgreSQL, the engine's connections are in autocommit and read-only sessions use
them as they are: under READ COMMITTED every statement takes its own snapshot whether or
not it sits in a transaction, so BEGIN and COMMIT would only add two round trips to every
read request. Sessions that write ask for READ COMMITTED on their connection, which makes
it open a real transaction. It is this way round because SQLAlchemy applies and undoes
an isolation level on every checkout that asks for one: that work belongs on the rarer
writes, not on every read.

Connections are not pinged before use (a round trip per request); a connection the
server dropped fails its statement once, and SQLAlchemy then invalidates the whole
pool, so the next checkouts reconnect. `pool_recycle` retires connections before
idle-timeouts of proxies between us and the server can cut them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from dreamlust.config import Settings
from dreamlust.kit import soft_delete
from dreamlust.kit.after_commit import run_jobs, take_jobs
from dreamlust.observability.pool_usage import watch_pool_usage
from dreamlust.observability.slow_queries import watch_slow_queries

_IMMEDIATE = "sqlite_begin_immediate"
_WRITE_ISOLATION = "READ COMMITTED"
INCLUDE_DELETED = soft_delete.INCLUDE_DELETED


def create_engine(settings: Settings, *, autocommit: bool = False) -> AsyncEngine:
    """The engine; with `autocommit`, a PostgreSQL connection runs each statement on its
    own unless it is asked for an isolation level (SQLite ignores it: see `_on_begin`)."""
    if settings.is_sqlite:
        engine = create_async_engine(
            settings.database_url,
            echo=settings.db_echo,
            json_deserializer=orjson.loads,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    engine = create_async_engine(
        settings.database_url,
        echo=settings.db_echo,
        json_deserializer=orjson.loads,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_recycle=settings.db_pool_recycle_seconds,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )
    _configure_postgresql(engine)
    return engine


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy emit BEGIN itself (see _on_begin) instead of the driver.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _configure_postgresql(engine: AsyncEngine) -> None:
    # asyncpg's error for a connection whose protocol is out of step with the server, as
    # SQLAlchemy's adapter raises it.
    out_of_step = engine.dialect.loaded_dbapi.InternalClientError

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        # When the server closes a connection (a restart), asyncpg may fail the next
        # statement with "cannot switch to state …" before it notices the close. Such a
        # connection is lost all the same: said so, SQLAlchemy discards it with the
        # pool's others, and the error is a lost connection (a 503, see errors.py).
        if isinstance(context.original_exception, out_of_step):
            context.is_disconnect = True


# How many unused read sessions a process keeps for its next read requests (as many as
# it serves reads at once, bounded).
UNUSED_READ_SESSIONS_KEPT = 64


class Database:
    """The engine plus two session factories: one for reads, one for writes. `info` is
    copied into each new session's `info`: what the process lends its sessions.

    A request's session comes from `request_session` and is handed back to
    `end_request_session`. Most read requests never use theirs (a card read borrows a
    connection of its own, see `kit/compiled_once.py`), and making an `AsyncSession`
    (its sync session, an identity map, two weak registries) is about 7% of the
    instructions of a content detail; so a read session handed back unused, exactly as
    it was made, is kept and handed to the next read request."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.info: dict[str, Any] = {}
        self.engine = create_engine(settings, autocommit=True)
        watch_pool_usage(self.engine)
        watch_slow_queries(self.engine, settings.slow_query_ms)
        writes = self.engine.execution_options(**{_IMMEDIATE: True})
        if not settings.is_sqlite:
            writes = self.engine.execution_options(isolation_level=_WRITE_ISOLATION)
        self._read_sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, info=self.info
        )
        self._write_sessions = async_sessionmaker(writes, expire_on_commit=False, info=self.info)
        self._unused_reads: list[AsyncSession] = []

    @property
    def is_sqlite(self) -> bool:
        return self.settings.is_sqlite

    def session(self, *, write: bool = True) -> AsyncSession:
        factory = self._write_sessions if write else self._read_sessions
        return factory()

    def request_session(self, *, write: bool) -> AsyncSession:
        """The session of one request: for a read, one that an earlier read request
        handed back unused, else a new one."""
        if not write and self._unused_reads:
            return self._unused_reads.pop()
        return self.session(write=write)

    async def end_request_session(self, session: AsyncSession) -> None:
        """Done with a request's session. One in a transaction is closed (what it did not
        commit is rolled back). One that is not holds no connection: a read session that
        sent no statement, holds no object and was lent nothing is kept for the next read
        request; any other is left to the garbage collector (closing it would cost about
        25 µs of CPU for nothing)."""
        made = session.sync_session
        if made.in_transaction():
            await session.close()
        elif (
            session.bind is self.engine
            and not made.identity_map
            and not made.new
            and made.info == self.info
            and len(self._unused_reads) < UNUSED_READ_SESSIONS_KEPT
        ):
            self._unused_reads.append(session)

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed when the block ends without error; the side
        effects queued with `after_commit` then run."""
        async with self.session(write=write) as session:
            async with session.begin():
                yield session
            await run_jobs(take_jobs(session))

    async def dispose(self) -> None:
        await self.engine.dispose()
