"""`GET /metrics`: what it counts, with which labels, and who may read it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.runtime import Runtime
from dreamlust.views.buffer import BufferedView
from dreamlust.views.service import buffer_of
from tests.conftest import make_settings
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import PASSWORD
from tests.fixtures.metrics import family_names, parse, scrape, total, value
from tests.fixtures.redis import available_redis_url
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.serving import served

REQUESTS = "dreamlust_http_requests_total"
DETAIL_ROUTE = "/api/v1/content/{content_id}"
OUTSIDER = ("203.0.113.7", 50000)
METRICS_TOKEN = "scraper-token-0123456789abcdef"

ClientAt = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_at(settings: Settings) -> ClientAt:
    """A client of an app with its own settings, connecting from `peer`."""

    @asynccontextmanager
    async def connect(
        peer: tuple[str, int] = OUTSIDER, **overrides: object
    ) -> AsyncIterator[httpx.AsyncClient]:
        async with own_runtime(settings, **overrides) as runtime:
            app = create_app(runtime.settings, runtime=runtime)
            transport = httpx.ASGITransport(app=app, client=peer)
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
            ):
                yield client

    return connect


async def test_requests_are_counted_by_route_template_method_and_status(
    client: httpx.AsyncClient,
) -> None:
    before = parse(await scrape(client))
    missing_ids = [uuid.uuid4() for _ in range(3)]
    for content_id in missing_ids:
        assert (await client.get(f"/api/v1/content/{content_id}")).status_code == 404
    assert (await client.get("/no/such/page")).status_code == 404
    assert (await client.delete("/healthz")).status_code == 405
    after = parse(await scrape(client))

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew(REQUESTS, method="GET", route=DETAIL_ROUTE, status="404") == 3
    assert grew(REQUESTS, method="GET", route="unmatched", status="404") == 1
    assert grew(REQUESTS, method="DELETE", route="/healthz", status="405") == 1
    assert (
        grew("dreamlust_http_request_duration_seconds_count", method="GET", route=DETAIL_ROUTE) == 3
    )
    assert (
        grew(
            "dreamlust_http_request_duration_seconds_bucket",
            method="GET",
            route=DETAIL_ROUTE,
            le="+Inf",
        )
        == 3
    )
    routes = {dict(labels).get("route") for name, labels in after if name == REQUESTS}
    assert not any(str(content_id) in str(routes) for content_id in missing_ids)
    assert "/no/such/page" not in routes


async def test_every_metric_family_is_exposed(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    names = family_names(await scrape(client))
    assert {
        "dreamlust_http_requests",
        "dreamlust_http_request_duration_seconds",
        "dreamlust_db_pool_connections_in_use",
        "dreamlust_cache_lookups",
        "dreamlust_optimistic_lock_conflicts",
        "dreamlust_rate_limit_refusals",
        "dreamlust_job_runs",
        "dreamlust_job_duration_seconds",
        "dreamlust_view_buffer_backlog",
    } <= names


async def test_the_pool_gauge_counts_connections_checked_out(database: Database) -> None:
    def in_use() -> float:
        return REGISTRY.get_sample_value("dreamlust_db_pool_connections_in_use") or 0.0

    before = in_use()
    async with database.engine.connect():
        assert in_use() == before + 1
        async with database.engine.connect():
            assert in_use() == before + 2
    assert in_use() == before


async def test_version_conflicts_are_counted(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    headers = headers_for(runtime, await make_account(session))
    created = await client.post("/api/v1/playlists", json={"name": "First"}, headers=headers)
    assert created.status_code == 201, created.text
    url = f"/api/v1/playlists/{created.json()['id']}"
    assert (
        await client.patch(url, json={"name": "Second"}, headers={**headers, "If-Match": '"1"'})
    ).status_code == 200
    before = parse(await scrape(client))

    stale = await client.patch(url, json={"name": "Lost"}, headers={**headers, "If-Match": '"1"'})
    in_body = await client.patch(url, json={"name": "Lost", "version": 1}, headers=headers)
    unversioned = await client.patch(url, json={"name": "Lost"}, headers=headers)

    assert (stale.status_code, in_body.status_code, unversioned.status_code) == (412, 409, 428)
    after = parse(await scrape(client))
    conflicts = "dreamlust_optimistic_lock_conflicts_total"
    assert value(after, conflicts) - value(before, conflicts) == 2


async def test_rate_limit_refusals_are_counted(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_account(session)
    allowed = int(settings.rate_limit_login_per_account.split("/")[0])
    before = parse(await scrape(client))
    statuses = [
        (
            await client.post(
                "/api/v1/auth/login", json={"login": user.username, "password": PASSWORD}
            )
        ).status_code
        for _ in range(allowed + 2)
    ]
    after = parse(await scrape(client))

    refusals = "dreamlust_rate_limit_refusals_total"
    assert statuses.count(429) == 2
    assert total(after, refusals) - total(before, refusals) == 2


async def test_the_view_backlog_is_read_from_redis_when_scraped(settings: Settings) -> None:
    prefix = f"dreamlust-test:views:{uuid.uuid4().hex}"
    async with own_runtime(
        settings, redis_url=await available_redis_url(), view_buffer_prefix=prefix
    ) as runtime:
        buffer = buffer_of(runtime)
        assert buffer is not None
        try:
            async with served(create_app(runtime.settings, runtime=runtime)) as client:
                assert value(parse(await scrape(client)), "dreamlust_view_buffer_backlog") == 0
                for viewer in ("a", "b", "c"):
                    assert await buffer.record(_view(viewer), window_seconds=60)
                assert value(parse(await scrape(client)), "dreamlust_view_buffer_backlog") == 3
                assert await buffer.claim_batch() is not None  # a flush under way
                assert await buffer.record(_view("d"), window_seconds=60)
                assert value(parse(await scrape(client)), "dreamlust_view_buffer_backlog") == 4
        finally:
            async for key in buffer.redis.scan_iter(match=f"{prefix}:*"):
                await buffer.redis.delete(key)


def _view(viewer: str) -> BufferedView:
    return BufferedView(
        id=uuid.uuid4(),
        content_id=uuid.uuid4(),
        user_id=None,
        viewer_hash=viewer,
        user_agent=None,
        watch_duration=None,
        created_at=datetime.now(UTC),
    )


async def test_metrics_are_hidden_from_other_addresses_as_if_absent(
    client_at: ClientAt,
) -> None:
    async with client_at(OUTSIDER) as client:
        refused = await client.get("/metrics")
        absent = await client.get("/no/such/page")
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json() == absent.json()


async def test_the_token_opens_metrics_from_anywhere(client_at: ClientAt) -> None:
    async with client_at(OUTSIDER, metrics_token=SecretStr(METRICS_TOKEN)) as client:
        with_token = await client.get(
            "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        wrong_token = await client.get(
            "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}x"}
        )
        without = await client.get("/metrics")
    assert with_token.status_code == 200
    assert REQUESTS in with_token.text
    assert wrong_token.status_code == 404
    assert without.status_code == 404


async def test_allowed_networks_replace_loopback(client_at: ClientAt) -> None:
    async with client_at(("127.0.0.1", 50000), metrics_allowed_networks=[]) as client:
        assert (await client.get("/metrics")).status_code == 404
    async with client_at(
        ("198.51.100.20", 50000), metrics_allowed_networks=["198.51.100.0/24"]
    ) as client:
        assert (await client.get("/metrics")).status_code == 200
    async with client_at(
        ("::1", 50000), metrics_allowed_networks=["127.0.0.0/8", "::1/128"]
    ) as client:
        assert (await client.get("/metrics")).status_code == 200


async def test_a_client_behind_a_trusted_proxy_is_judged_by_its_own_address(
    client_at: ClientAt,
) -> None:
    relayed = {"X-Forwarded-For": "203.0.113.50"}
    async with client_at(("127.0.0.1", 50000), trusted_proxies=["127.0.0.1"]) as client:
        assert (await client.get("/metrics", headers=relayed)).status_code == 404
        assert (await client.get("/metrics")).status_code == 200
    async with client_at(
        ("127.0.0.1", 50000),
        trusted_proxies=["127.0.0.1"],
        metrics_allowed_networks=["203.0.113.0/24"],
    ) as client:
        assert (await client.get("/metrics", headers=relayed)).status_code == 200
    async with client_at(("127.0.0.1", 50000)) as client:
        # Without a trusted proxy the header is the client's own text: the peer counts.
        assert (await client.get("/metrics", headers=relayed)).status_code == 200


def test_metrics_settings_refuse_what_cannot_work() -> None:
    url = "sqlite+aiosqlite:///unused.db"
    with pytest.raises(ValidationError, match="not an IP address or CIDR network"):
        make_settings(url, metrics_allowed_networks=["10.0.0.0/8", "intranet"])
    with pytest.raises(ValidationError, match="at least 16 characters"):
        make_settings(url, metrics_token="short")
    assert make_settings(url, metrics_token="").metrics_token is None


async def test_routes_of_a_mounted_app_are_named_below_the_mount(
    settings: Settings, runtime: Runtime
) -> None:
    async def item(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("item")

    app = create_app(settings, runtime=runtime)
    app.mount("/tools", Starlette(routes=[Route("/items/{item_id}", item)]))
    async with served(app) as client:
        before = parse(await scrape(client))
        assert (await client.get("/tools/items/42")).status_code == 200
        after = parse(await scrape(client))
    labels = {"method": "GET", "route": "/tools/items/{item_id}", "status": "200"}
    assert value(after, REQUESTS, **labels) - value(before, REQUESTS, **labels) == 1
