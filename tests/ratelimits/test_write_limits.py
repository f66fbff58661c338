"""The general limit on writes: every write route counts per account and per address,
reports its quota in `RateLimit-*` headers and refuses with a 429 and `Retry-After`;
reads are left alone.

Each test runs with the counts in process memory and in Redis (under a key prefix of
its own), on an application with small rates of its own.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import DOMAIN_ROUTERS, create_app
from dreamlust.config import API_PREFIX, Settings
from dreamlust.content.visibility import Viewer
from dreamlust.errors import PROBLEM_MEDIA_TYPE
from dreamlust.kit.rate_limit import RateLimiter
from dreamlust.models import User, View
from dreamlust.runtime import Runtime
from dreamlust.views.service import buffer_of
from dreamlust.write_limits import UNLIMITED_WRITES, WRITE_METHODS
from tests.fixtures.accounts import bearer, headers_for, make_account
from tests.fixtures.moderation import published
from tests.fixtures.redis import available_redis_url
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.serving import served

PLAYLISTS = f"{API_PREFIX}/playlists"
HERE = {"X-Forwarded-For": "203.0.113.7"}
ELSEWHERE = {"X-Forwarded-For": "198.51.100.9"}
QUOTA_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
_PATH_PARAMETER = re.compile(r"\{[^}]+\}")
# The general limits count in windows aligned to the clock; each test here writes in
# well under this many seconds, so starting with at least this much of a minute left
# keeps all its writes in one window.
_SECONDS_NEEDED = 15


@pytest.fixture(params=["memory", "redis"])
async def redis_url(request: pytest.FixtureRequest) -> str | None:
    """Where the counts live: None for process memory, else the test Redis server."""
    if request.param == "memory":
        return None
    return await available_redis_url()


@asynccontextmanager
async def limited_api(
    settings: Settings, redis_url: str | None, **overrides: object
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """A client of the API with `overrides` on the suite's settings, behind a trusted
    proxy (so `X-Forwarded-For` names the client), and the runtime it runs on; it is
    handed over early enough in a minute for the test's writes to share one window."""
    async with own_runtime(
        settings, redis_url=redis_url, trusted_proxies=["127.0.0.1"], **overrides
    ) as runtime:
        limiter = RateLimiter(
            runtime.settings, redis=runtime.redis, key_prefix=f"dreamlust-test:rl:{uuid.uuid4()}"
        )
        limited = replace(runtime, rate_limiter=limiter)
        try:
            async with served(create_app(limited.settings, runtime=limited)) as client:
                left = 60 - time.time() % 60
                if left < _SECONDS_NEEDED:
                    await asyncio.sleep(left)
                yield client, limited
        finally:
            await limiter.reset()


def quota(response: httpx.Response) -> tuple[int, int]:
    """The response's `RateLimit-Limit` and `RateLimit-Remaining`."""
    return int(response.headers["RateLimit-Limit"]), int(response.headers["RateLimit-Remaining"])


def reset(response: httpx.Response) -> int:
    return int(response.headers["RateLimit-Reset"])


async def create_playlist(
    client: httpx.AsyncClient, runtime: Runtime, user: User, address: dict[str, str] = HERE
) -> httpx.Response:
    return await client.post(
        PLAYLISTS, json={"name": "Later"}, headers={**headers_for(runtime, user), **address}
    )


def assert_refused(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["type"] == "urn:dreamlust:problem:rate-limited"
    assert quota(response) == (limit, 0)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["Retry-After"] == response.headers["RateLimit-Reset"]


async def test_writes_are_limited_per_account(
    settings: Settings, session: AsyncSession, redis_url: str | None
) -> None:
    alice, bob = await make_account(session), await make_account(session)

    async with limited_api(settings, redis_url, rate_limit_write_per_account="3/minute") as (
        client,
        runtime,
    ):
        allowed = [await create_playlist(client, runtime, alice) for _ in range(3)]
        refused = await create_playlist(client, runtime, alice, ELSEWHERE)
        bobs = await create_playlist(client, runtime, bob)
        kept = await client.get(PLAYLISTS, headers=headers_for(runtime, alice))

    assert [response.status_code for response in allowed] == [201, 201, 201]
    assert [quota(response) for response in allowed] == [(3, 2), (3, 1), (3, 0)]
    assert all(1 <= reset(response) <= 60 for response in allowed)
    assert_refused(refused, limit=3)
    assert len(kept.json()["items"]) == 3
    assert bobs.status_code == 201
    assert quota(bobs) == (3, 2)


async def test_views_spend_the_write_budget_and_a_refused_view_records_nothing(
    settings: Settings, session: AsyncSession, redis_url: str | None
) -> None:
    """Recording a view counts its own hit (in the buffer's script once the item's listing
    is kept in Redis): against the budget of every other write, before anything else, and
    a view over the limit is neither buffered nor stored."""
    item, _owner = await published(session)
    views = f"{API_PREFIX}/content/{item.id}/views"
    prefix = f"dreamlust-test:{uuid.uuid4().hex}"

    async with limited_api(
        settings,
        redis_url,
        rate_limit_write_per_address="3/minute",
        cache_enabled=True,
        view_buffer_prefix=f"{prefix}:views",
        cache_prefix=f"{prefix}:cache",
    ) as (client, runtime):

        async def view(viewer: int, **body: object) -> httpx.Response:
            headers = {**HERE, "User-Agent": f"viewer {viewer}"}
            return await client.post(views, json=body or None, headers=headers)

        allowed = [await view(1), await view(2), await view(3, duration=-1)]
        refused = await view(4)
        other_write = await client.post(PLAYLISTS, json={"name": "Later"}, headers=HERE)
        buffer = buffer_of(runtime)
        if buffer is None:
            recorded = await session.scalar(
                select(func.count()).select_from(View).where(View.content_id == item.id)
            )
        else:
            recorded = await buffer.backlog()
            listing = buffer.listing(item.id, Viewer())
            assert listing is not None
            assert await runtime.redis.exists(listing.key)  # the script counted views 2 to 4

    assert [response.status_code for response in allowed] == [202, 202, 422]
    assert [quota(response) for response in allowed] == [(3, 2), (3, 1), (3, 0)]
    assert_refused(refused, limit=3)
    assert_refused(other_write, limit=3)
    assert recorded == 2


async def test_writes_are_limited_per_address_across_accounts(
    settings: Settings, session: AsyncSession, redis_url: str | None
) -> None:
    alice, bob = await make_account(session), await make_account(session)

    async with limited_api(settings, redis_url, rate_limit_write_per_address="3/minute") as (
        client,
        runtime,
    ):
        allowed = [
            await create_playlist(client, runtime, alice),
            await create_playlist(client, runtime, bob),
            await create_playlist(client, runtime, alice),
        ]
        refused = await create_playlist(client, runtime, bob)
        anonymous = await client.post(PLAYLISTS, json={"name": "Later"}, headers=HERE)
        elsewhere = await create_playlist(client, runtime, bob, ELSEWHERE)

    assert [response.status_code for response in allowed] == [201, 201, 201]
    assert [quota(response) for response in allowed] == [(3, 2), (3, 1), (3, 0)]
    assert_refused(refused, limit=3)
    assert_refused(anonymous, limit=3)
    assert elsewhere.status_code == 201
    assert quota(elsewhere) == (3, 2)


async def test_an_invalid_token_counts_against_the_address_alone(
    settings: Settings, session: AsyncSession, redis_url: str | None
) -> None:
    alice = await make_account(session)
    limits = {
        "rate_limit_write_per_account": "1/minute",
        "rate_limit_write_per_address": "5/minute",
    }

    async with limited_api(settings, redis_url, **limits) as (client, runtime):
        forged = [
            await client.post(PLAYLISTS, json={"name": "x"}, headers={**bearer("forged"), **HERE})
            for _ in range(2)
        ]
        signed_in = await create_playlist(client, runtime, alice)

    assert [response.status_code for response in forged] == [401, 401]
    assert [quota(response) for response in forged] == [(5, 4), (5, 3)]
    assert signed_in.status_code == 201
    assert quota(signed_in) == (1, 0)


async def test_a_stricter_limit_is_reported_while_it_is_the_tighter(
    settings: Settings, session: AsyncSession, redis_url: str | None
) -> None:
    content, _owner = await published(session)
    alice = await make_account(session)
    comments = f"{API_PREFIX}/content/{content.id}/comments"

    async with limited_api(
        settings, redis_url, rate_limit_comment="2/minute", rate_limit_write_per_account="10/minute"
    ) as (client, runtime):
        headers = {**headers_for(runtime, alice), **HERE}
        written = [await client.post(comments, json={"text": "Nice"}, headers=headers)]
        written.append(await client.post(comments, json={"text": "Nice"}, headers=headers))
        refused = await client.post(comments, json={"text": "Nice"}, headers=headers)
        liked = await client.put(f"{API_PREFIX}/content/{content.id}/like", headers=headers)

    assert [response.status_code for response in written] == [201, 201]
    assert [quota(response) for response in written] == [(2, 1), (2, 0)]
    assert_refused(refused, limit=2)
    # The refused comment was still a write: four of the ten are spent.
    assert liked.status_code == 200
    assert quota(liked) == (10, 6)


async def test_reads_carry_no_quota_and_are_never_refused(
    settings: Settings, session: AsyncSession, redis_url: str | None
) -> None:
    content, _owner = await published(session)
    alice = await make_account(session)

    async with limited_api(settings, redis_url, rate_limit_write_per_address="1/minute") as (
        client,
        runtime,
    ):
        headers = {**headers_for(runtime, alice), **HERE}
        reads = [
            await client.get(path, headers=headers)
            for path in (PLAYLISTS, f"{API_PREFIX}/content", f"{API_PREFIX}/content/{content.id}")
            for _ in range(3)
        ]

    assert [response.status_code for response in reads] == [200] * 9
    assert not any(name in response.headers for response in reads for name in QUOTA_HEADERS)


async def test_every_write_route_reports_its_quota_but_the_unlimited_ones(
    settings: Settings, redis_url: str | None
) -> None:
    """Any answer of a write route (401, 404, 422 …) carries the quota."""
    writes = [
        (method, route.path_format)
        for router in DOMAIN_ROUTERS
        for route in router.routes
        for method in WRITE_METHODS.intersection(getattr(route, "methods", None) or ())
    ]

    async with limited_api(settings, redis_url) as (client, _runtime):
        answers = {
            write: await client.request(write[0], _PATH_PARAMETER.sub(str(uuid.uuid4()), write[1]))
            for write in writes
        }

    assert len(writes) > 40
    reported = {write for write, answer in answers.items() if "RateLimit-Limit" in answer.headers}
    assert set(writes) >= UNLIMITED_WRITES
    assert reported == set(writes) - UNLIMITED_WRITES
    assert all(response.status_code != 429 for response in answers.values())


async def test_payment_webhooks_are_never_limited(
    settings: Settings, redis_url: str | None
) -> None:
    webhook = f"{API_PREFIX}/webhooks/payments"

    async with limited_api(settings, redis_url, rate_limit_write_per_address="1/minute") as (
        client,
        _runtime,
    ):
        deliveries = [await client.post(webhook, content=b"{}", headers=HERE) for _ in range(3)]

    assert [response.status_code for response in deliveries] == [deliveries[0].status_code] * 3
    assert deliveries[0].status_code in {400, 401}
    assert not any("RateLimit-Limit" in response.headers for response in deliveries)


async def test_with_limits_off_writes_carry_no_quota(
    settings: Settings, session: AsyncSession, redis_url: str | None
) -> None:
    alice = await make_account(session)
    limits = {"rate_limits_enabled": False, "rate_limit_write_per_account": "1/minute"}

    async with limited_api(settings, redis_url, **limits) as (client, runtime):
        written = [await create_playlist(client, runtime, alice) for _ in range(3)]

    assert [response.status_code for response in written] == [201, 201, 201]
    assert not any("RateLimit-Limit" in response.headers for response in written)


async def test_writes_are_refused_with_a_503_while_redis_is_unreachable(
    settings: Settings, session: AsyncSession
) -> None:
    alice = await make_account(session)

    async with (
        own_runtime(settings, redis_url="redis://127.0.0.1:1/0") as runtime,
        served(create_app(runtime.settings, runtime=runtime)) as client,
    ):
        refused = await create_playlist(client, runtime, alice)
        kept = await client.get(PLAYLISTS, headers=headers_for(runtime, alice))

    assert refused.status_code == 503
    assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert refused.headers["Retry-After"] == "5"
    assert kept.json()["items"] == []
