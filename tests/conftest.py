"""Fixtures shared by the whole suite.

Every test that uses the database runs twice: against SQLite and against PostgreSQL.
Without a PostgreSQL server the PostgreSQL half is skipped with a loud warning; with
CI=true a missing server fails the run instead.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from sqlalchemy import Connection, Engine, event
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust import migrate
from dreamlust.app import create_app
from dreamlust.config import Environment, Settings
from dreamlust.db import Database
from dreamlust.runtime import Runtime
from tests.fixtures.databases import (
    BACKENDS,
    PostgresUnavailable,
    delete_every_row,
    empty_database,
)
from tests.fixtures.serving import served

pytest_plugins = ["tests.fixtures.cli"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_SECRET = "test-secret-key-that-is-long-enough-for-production-rules"
_skipped_postgres: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped_postgres:
        terminalreporter.section("PostgreSQL NOT TESTED", sep="!", red=True, bold=True)
        terminalreporter.write_line(
            "The PostgreSQL half of the suite was skipped: " + _skipped_postgres[0], red=True
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked `postgresql_only` has no SQLite half: it is deselected, not skipped."""
    sqlite_halves = [
        item
        for item in items
        if item.get_closest_marker("postgresql_only") is not None
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("backend") == "sqlite"  # type: ignore[attr-defined]
    ]
    if sqlite_halves:
        config.hook.pytest_deselected(items=sqlite_halves)
        items[:] = [item for item in items if item not in sqlite_halves]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make_settings(database_url: str, **overrides: object) -> Settings:
    """The suite's settings. The read cache is off: tests change rows behind the API's
    back and read them again at once; tests/cache turns it on in runtimes of their own."""
    return Settings(
        env=Environment.TEST,
        DATABASE_URL=database_url,
        secret_key=TEST_SECRET,
        **{"cache_enabled": False, **overrides},
    )


@pytest.fixture(scope="session")
async def database_url(
    backend: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A database migrated to the latest revision, shared by one backend's tests."""
    try:
        async with empty_database(backend, tmp_path_factory.mktemp(backend)) as url:
            await migrate.upgrade(make_settings(url))
            yield url
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"CI requires PostgreSQL: {exc}")
        _skipped_postgres.append(str(exc))
        pytest.skip(f"PostgreSQL NOT TESTED: {exc}")


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(
        database_url,
        mail_dir=tmp_path_factory.mktemp("mail"),
        media_dir=tmp_path_factory.mktemp("media"),
        upload_dir=tmp_path_factory.mktemp("uploads"),
        # Load tests write thousands of times a minute from one address; the general
        # write limits are tested with small rates of their own (tests/ratelimits/).
        rate_limit_write_per_account="1000000/minute",
        rate_limit_write_per_address="1000000/minute",
    )


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    yield database
    await database.dispose()


@pytest.fixture(autouse=True)
async def _clean_state(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Each test starts from empty tables, no mail and fresh rate limits
    (only tests that use the database pay for it)."""
    yield
    if "database" not in request.fixturenames:
        return
    database: Database = request.getfixturevalue("database")
    async with database.transaction() as session:
        schema_changed = await delete_every_row(session)
    if schema_changed:
        await database.engine.dispose()
    if "runtime" in request.fixturenames:
        runtime: Runtime = request.getfixturevalue("runtime")
        await runtime.rate_limiter.reset()
        for mail in runtime.settings.mail_dir.glob("*.eml"):
            mail.unlink()


@pytest.fixture
async def session(database: Database) -> AsyncIterator[AsyncSession]:
    """A session for service-level tests; the test commits what it wants to keep."""
    async with database.session() as session:
        yield session


@pytest.fixture(scope="session")
async def runtime(settings: Settings, database: Database) -> AsyncIterator[Runtime]:
    runtime = Runtime.start(settings, database=database)
    yield runtime
    await runtime.close()


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with served(create_app(settings, runtime=runtime)) as client:
        yield client


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        # For each statement sent on PostgreSQL, whether its connection was in a
        # transaction (asyncpg's own view of it).
        self.in_transaction: list[bool] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def clear(self) -> None:
        self.statements.clear()
        self.in_transaction.clear()


@pytest.fixture
def count_statements(database: Database) -> Iterator[StatementCounter]:
    """Counts the SQL statements sent through the test's database, by any engine of the
    process (a test's runtime of its own has one)."""
    counter = StatementCounter()

    def record(conn: Connection, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
            return
        counter.statements.append(statement)
        driver = conn.connection.driver_connection
        if isinstance(driver, asyncpg.Connection):
            counter.in_transaction.append(driver.is_in_transaction())

    event.listen(Engine, "before_cursor_execute", record)
    yield counter
    event.remove(Engine, "before_cursor_execute", record)
