"""Log lines: JSON in production, one access line per request, errors and slow statements."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.config import Environment, Settings
from dreamlust.db import Database
from dreamlust.observability.logs import log_format
from dreamlust.runtime import Runtime
from tests.conftest import TEST_SECRET
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.logs import captured_log_lines, json_lines

DETAIL_ROUTE = "/api/v1/content/{content_id}"
MISSING = "/api/v1/content/01890000-0000-7000-8000-000000000000"


def _access_lines(entries: list[dict[str, object]]) -> list[dict[str, object]]:
    return [entry for entry in entries if entry["logger"] == "dreamlust.access"]


async def test_each_request_writes_one_json_access_line(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    with captured_log_lines("json") as lines:
        signed_in = await client.get(MISSING, headers=headers_for(runtime, user))
        anonymous = await client.get(MISSING, headers={"X-Request-ID": "probe-17"})

    first, second = _access_lines(json_lines(lines))
    assert first["request_id"] == signed_in.headers["x-request-id"]
    assert first["user_id"] == str(user.id)
    assert (first["method"], first["route"], first["status"]) == ("GET", DETAIL_ROUTE, 404)
    assert isinstance(first["duration_ms"], float)
    assert first["duration_ms"] >= 0
    assert first["level"] == "INFO"
    assert str(first["time"]).endswith("+00:00")
    assert second["request_id"] == anonymous.headers["x-request-id"] == "probe-17"
    assert "user_id" not in second


async def test_text_lines_carry_the_request_id(client: httpx.AsyncClient) -> None:
    with captured_log_lines("text") as lines:
        response = await client.get("/healthz", headers={"X-Request-ID": "text-line-1"})
    (line,) = [line for line in lines.getvalue().splitlines() if "dreamlust.access" in line]
    assert "[text-line-1]" in line
    assert "GET /healthz 200" in line
    assert response.headers["x-request-id"] == "text-line-1"


async def test_an_unhandled_error_is_logged_with_the_request_id(
    settings: Settings, runtime: Runtime
) -> None:
    app: FastAPI = create_app(settings, runtime=runtime)

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("disk on fire")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        with captured_log_lines("json") as lines:
            response = await client.get("/crash", headers={"X-Request-ID": "crash-42"})

    assert response.status_code == 500
    assert "disk on fire" not in response.text
    entries = json_lines(lines)
    # Only this request's: a garbage collection meanwhile may log about other tests' tasks.
    (error,) = [e for e in entries if e["level"] == "ERROR" and e.get("request_id") == "crash-42"]
    assert "disk on fire" in str(error["exception"])
    (access,) = _access_lines(entries)
    assert (access["request_id"], access["route"], access["status"]) == ("crash-42", "/crash", 500)


async def test_slow_statements_are_logged_without_their_parameters(settings: Settings) -> None:
    secret = "hunter2-do-not-log"
    statement = text("SELECT :value AS echoed").bindparams(value=secret)
    everything = Database(settings.model_copy(update={"slow_query_ms": 0.0}))
    try:
        with captured_log_lines("json") as lines:
            async with everything.session(write=False) as session:
                assert await session.scalar(statement) == secret
    finally:
        await everything.dispose()

    slow = [entry for entry in json_lines(lines) if entry["logger"] == "dreamlust.slow_query"]
    (logged,) = [entry for entry in slow if "echoed" in str(entry["statement"])]
    assert logged["level"] == "WARNING"
    assert isinstance(logged["duration_ms"], float)
    assert secret not in lines.getvalue()


async def test_statements_under_the_threshold_are_not_logged(settings: Settings) -> None:
    patient = Database(settings.model_copy(update={"slow_query_ms": 600_000.0}))
    try:
        with captured_log_lines("json") as lines:
            async with patient.session(write=False) as session:
                assert await session.scalar(text("SELECT 1")) == 1
    finally:
        await patient.dispose()
    assert not [entry for entry in json_lines(lines) if entry["logger"] == "dreamlust.slow_query"]


@pytest.mark.parametrize(
    ("env", "chosen", "expected"),
    [
        (Environment.PRODUCTION, None, "json"),
        (Environment.DEVELOPMENT, None, "text"),
        (Environment.TEST, None, "text"),
        (Environment.PRODUCTION, "text", "text"),
        (Environment.DEVELOPMENT, "json", "json"),
    ],
)
def test_the_log_format_follows_the_environment_unless_chosen(
    env: Environment, chosen: str | None, expected: str
) -> None:
    settings = Settings(env=env, secret_key=TEST_SECRET, log_format=chosen)
    assert log_format(settings) == expected
