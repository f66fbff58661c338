"""The application shell: probes, docs, request ids and problem+json for every error."""

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.errors import install_error_handlers
from dreamlust.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.serving import served

PROBLEM = "application/problem+json"


async def test_liveness_readiness_and_docs(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok"}}
    assert (await client.get("/openapi.json")).json()["info"]["title"] == "dreamlust"
    assert (await client.get("/docs")).status_code == 200


async def _client_for(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with served(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(
    ("redis_url", "status", "redis_state"),
    [("redis://127.0.0.1:6379/15", 200, "ok"), ("redis://127.0.0.1:1/0", 503, "unavailable")],
    ids=["redis-up", "redis-down"],
)
async def test_readiness_checks_redis_when_configured(
    database_url: str, redis_url: str, status: int, redis_state: str
) -> None:
    async for client in _client_for(make_settings(database_url, REDIS_URL=redis_url)):
        response = await client.get("/readyz")
        assert response.status_code == status
        assert response.json()["checks"] == {"database": "ok", "redis": redis_state}


async def test_readiness_fails_without_a_database() -> None:
    settings = make_settings("sqlite+aiosqlite:////nonexistent-dir/none.db")
    async for client in _client_for(settings):
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["database"] == "unavailable"


async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert set(missing.json()) == {"type", "title", "status", "detail"}

    wrong_method = await client.delete("/healthz")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"] == PROBLEM


async def test_a_wrong_method_is_told_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    # GET and POST /playlists are two routes; routing alone names the first one's only.
    wrong_method = await client.put("/api/v1/playlists")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "GET, POST"
    # A concrete path is its own resource, though a template matches it too.
    for method, path, allow in [
        ("PATCH", "/api/v1/content/trending", "GET"),
        ("OPTIONS", "/api/v1/creators/me/tiers", "PUT"),
    ]:
        answer = await client.request(method, path)
        assert (answer.status_code, answer.headers["allow"]) == (405, allow), path


async def test_request_ids_are_echoed_or_made_up(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made_up = await client.get("/healthz")
    assert len(made_up.headers["x-request-id"]) == 32
    unsafe = await client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert unsafe.headers["x-request-id"] != "bad id\twith spaces"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=5)


class _DriverError(Exception):
    """An error as the database driver raises it, with its SQLSTATE."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.fixture
async def error_client() -> AsyncIterator[httpx.AsyncClient]:
    """Routes that fail in each way the handlers must translate."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/body")
    async def body(payload: Body) -> dict[str, str]:
        return {"name": payload.name}

    @app.get("/stale")
    async def stale() -> None:
        raise StaleDataError("UPDATE statement expected 1 row, matched 0")

    @app.get("/integrity")
    async def integrity() -> None:
        raise IntegrityError("INSERT …", {}, Exception("duplicate key"))

    @app.get("/deadlock")
    async def deadlock() -> None:
        raise OperationalError("UPDATE …", {}, _DriverError("deadlock detected", "40P01"))

    @app.get("/locked")
    async def locked() -> None:
        raise OperationalError("INSERT …", {}, _DriverError("database is locked", None))

    @app.get("/pool")
    async def pool() -> None:
        raise PoolTimeout("QueuePool limit of size 8 overflow 5 reached, connection timed out")

    @app.get("/broken")
    async def broken() -> None:
        raise OperationalError("SELECT …", {}, _DriverError("disk I/O error", "58030"))

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internals")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client


async def test_validation_errors_list_each_problem(error_client: httpx.AsyncClient) -> None:
    response = await error_client.post("/body", json={"name": "far too long", "extra": 1})
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert {tuple(error["loc"]) for error in problem["errors"]} == {
        ("body", "name"),
        ("body", "extra"),
    }
    assert all(error["msg"] for error in problem["errors"])

    malformed = await error_client.post(
        "/body", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422


async def test_stale_writes_are_412_with_if_match_and_409_without(
    error_client: httpx.AsyncClient,
) -> None:
    with_precondition = await error_client.get("/stale", headers={"If-Match": '"3"'})
    assert with_precondition.status_code == 412
    without = await error_client.get("/stale")
    assert without.status_code == 409
    assert without.headers["content-type"] == PROBLEM


async def test_constraint_violations_are_409_and_crashes_reveal_nothing(
    error_client: httpx.AsyncClient,
) -> None:
    conflict = await error_client.get("/integrity")
    assert conflict.status_code == 409
    assert "duplicate key" not in conflict.text

    crash = await error_client.get("/crash")
    assert crash.status_code == 500
    assert crash.headers["content-type"] == PROBLEM
    assert "secret internals" not in crash.text
    assert "Traceback" not in crash.text


async def test_a_deadlock_or_a_busy_database_is_a_503_to_retry_other_errors_a_500(
    error_client: httpx.AsyncClient,
) -> None:
    for path in ("/deadlock", "/locked", "/pool"):
        response = await error_client.get(path)
        assert response.status_code == 503, path
        assert response.headers["retry-after"] == "1"
        assert response.headers["content-type"] == PROBLEM

    broken = await error_client.get("/broken")
    assert broken.status_code == 500
    assert "disk I/O" not in broken.text


async def test_a_given_runtime_is_left_open_at_shutdown(
    settings: Settings, runtime: Runtime
) -> None:
    app = create_app(settings, runtime=runtime)
    async with app.router.lifespan_context(app):
        pass
    async with runtime.database.session() as session:
        assert (await session.connection()).closed is False
