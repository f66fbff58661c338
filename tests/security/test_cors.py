"""Cross-origin requests as configured: without `DREAMLUST_CORS_ORIGINS` no origin is
allowed anything; with it, exactly the listed origins may call the API from a browser,
send its writes (bearer token, JSON body) and read the headers a client acts on (the
ETag for `If-Match`, the rate limit, `Location`, `Retry-After`). Refusals are problems and
every answer keeps the security headers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import bearer, make_account
from tests.fixtures.serving import served

ALLOWED = "https://app.example"
OTHER = "https://elsewhere.example"
PROBLEM = "application/problem+json"
# What a browser client reads from the API's answers beyond the safelisted headers.
CLIENT_HEADERS = {"etag", "location", "retry-after", "ratelimit-limit", "ratelimit-remaining"}


def _preflight(origin: str) -> dict[str, str]:
    """A browser's question before a cross-origin write with a token and a JSON body."""
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


def _cors_headers(response: httpx.Response) -> set[str]:
    return {name for name in response.headers if name.startswith("access-control-")}


def _assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert (
        response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    )


@pytest.fixture
async def cors_client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The application of a deployment whose browser client is served from `ALLOWED`."""
    configured = settings.model_copy(update={"cors_origins": [ALLOWED]})
    async with served(create_app(configured, runtime=runtime)) as client:
        yield client


async def test_without_configured_origins_no_origin_is_allowed_anything(
    client: httpx.AsyncClient,
) -> None:
    read = await client.get("/api/v1/content", headers={"Origin": ALLOWED})
    assert read.status_code == 200
    assert _cors_headers(read) == set()

    preflight = await client.options("/api/v1/playlists", headers=_preflight(ALLOWED))
    assert preflight.status_code == 405
    assert preflight.headers["content-type"] == PROBLEM
    assert _cors_headers(preflight) == set()
    _assert_security_headers(preflight)


async def test_the_configured_origin_may_read_and_others_get_no_allowance(
    cors_client: httpx.AsyncClient,
) -> None:
    allowed = await cors_client.get("/api/v1/content", headers={"Origin": ALLOWED})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "Origin" in allowed.headers["vary"]
    assert "access-control-allow-credentials" not in allowed.headers  # bearer tokens only
    _assert_security_headers(allowed)

    other = await cors_client.get("/api/v1/content", headers={"Origin": OTHER})
    assert other.status_code == 200
    assert "access-control-allow-origin" not in other.headers
    assert "Origin" in other.headers["vary"]  # a shared cache keeps the two apart


async def test_the_configured_origin_may_send_writes_with_a_token_and_a_json_body(
    cors_client: httpx.AsyncClient,
) -> None:
    preflight = await cors_client.options("/api/v1/playlists", headers=_preflight(ALLOWED))
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in preflight.headers["access-control-allow-methods"].split(", ")
    allowed_headers = preflight.headers["access-control-allow-headers"].lower().split(", ")
    assert {"authorization", "content-type"} <= set(allowed_headers)
    _assert_security_headers(preflight)


async def test_a_preflight_from_another_origin_is_refused_with_a_problem(
    cors_client: httpx.AsyncClient,
) -> None:
    refused = await cors_client.options("/api/v1/playlists", headers=_preflight(OTHER))
    assert refused.status_code == 400
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["status"] == 400
    assert "access-control-allow-origin" not in refused.headers
    assert "Origin" in refused.headers["vary"]
    _assert_security_headers(refused)


async def test_the_configured_origin_can_read_the_headers_a_client_acts_on(
    cors_client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    created = await cors_client.post(
        "/api/v1/playlists",
        json={"name": "Cross-origin"},
        headers={"Origin": ALLOWED, **bearer(runtime.access_tokens.issue(user))},
    )
    assert created.status_code == 201, created.text
    assert created.headers["access-control-allow-origin"] == ALLOWED
    exposed = {
        name.lower() for name in created.headers["access-control-expose-headers"].split(", ")
    }
    assert exposed >= CLIENT_HEADERS
    # The headers are exposed because the answers carry them.
    assert created.headers["etag"]
    assert created.headers["ratelimit-remaining"]
    _assert_security_headers(created)
