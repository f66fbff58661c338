"""What fails inside the application reaches the client as a plain problem: no stack
trace, no SQL, no table or constraint name, and the security headers still on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dreamlust.app import create_app
from dreamlust.config import API_PREFIX, Settings
from dreamlust.dependencies import DbSession
from dreamlust.request_session import api_router
from dreamlust.runtime import Runtime
from tests.fixtures.factories import make_user

PROBLEM = "application/problem+json"
# What an error body must never hold: traces, SQL and the names behind it.
LEAKS = (
    "Traceback",
    'File "',
    "RuntimeError",
    "secret internals",
    "SELECT",
    "INSERT",
    "no_such_table",
    "users",
    "UNIQUE",
    "duplicate key",
    "sqlalchemy",
    "asyncpg",
    "sqlite",
)


@pytest.fixture
async def failing_client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The application with routes that fail the ways real code can; the client gets the
    response even where the error is raised on to the server (as uvicorn would log it)."""
    app = create_app(settings, runtime=runtime)

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals: SELECT password_hash FROM users")

    in_session = api_router()

    @in_session.get("/bad-sql")
    async def bad_sql(session: DbSession) -> None:
        await session.execute(text("SELECT secret FROM no_such_table"))

    @in_session.post("/duplicate")
    async def duplicate(session: DbSession) -> None:
        await make_user(session, username="twin", email="twin@example.com")
        await make_user(session, username="twin", email="twin@example.com")

    app.include_router(in_session)

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        yield client


def _assert_reveals_nothing(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert set(response.json()) == {"type", "title", "status", "detail"}
    for leak in LEAKS:
        assert leak.lower() not in response.text.lower(), leak
    assert response.headers["x-content-type-options"] == "nosniff"
    assert (
        response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    )


def _logged_errors(caplog: pytest.LogCaptureFixture) -> list[BaseException]:
    return [
        record.exc_info[1] for record in caplog.records if record.exc_info and record.exc_info[1]
    ]


async def test_an_unexpected_error_is_a_bare_500_and_logged_whole(
    failing_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    _assert_reveals_nothing(await failing_client.get("/crash"), 500)
    assert any("secret internals" in str(error) for error in _logged_errors(caplog))


async def test_a_failing_statement_is_a_500_without_its_sql(
    failing_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    _assert_reveals_nothing(await failing_client.get(f"{API_PREFIX}/bad-sql"), 500)
    assert any(isinstance(error, DBAPIError) for error in _logged_errors(caplog))


async def test_a_constraint_violation_is_a_409_without_the_constraint(
    failing_client: httpx.AsyncClient,
) -> None:
    _assert_reveals_nothing(await failing_client.post(f"{API_PREFIX}/duplicate"), 409)
