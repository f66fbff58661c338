"""Rate limits: the hit over the rate is refused with a Retry-After, per identifier and limit.

Every test runs against in-process memory and against Redis, where each test counts under
a key prefix of its own.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from dreamlust.dependencies import ClientAddress, RateLimiterDep
from dreamlust.errors import (
    PROBLEM_MEDIA_TYPE,
    RateLimited,
    ServiceUnavailable,
    install_error_handlers,
)
from dreamlust.kit.rate_limit import (
    GeneralHits,
    Limit,
    Quota,
    RateLimiter,
    WindowCounts,
    _WindowHit,
    reporting_quotas,
)
from dreamlust.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.redis import available_redis_url, connect_redis

UNUSED_DATABASE = "sqlite+aiosqlite:///unused.db"
TWICE_A_SECOND = "2/second"
TINY_RATES = {
    "rate_limit_login_per_account": TWICE_A_SECOND,
    "rate_limit_register": TWICE_A_SECOND,
}


@pytest.fixture
async def redis_url() -> str:
    return await available_redis_url()


@dataclass
class Store:
    """Where a test's counts live: this process's memory, or a Redis prefix of its own."""

    redis: Redis | None
    key_prefix: str

    def limiter(self, **overrides: object) -> RateLimiter:
        settings = make_settings(UNUSED_DATABASE, **{**TINY_RATES, **overrides})
        return RateLimiter(settings, redis=self.redis, key_prefix=self.key_prefix)


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    if request.param == "memory":
        yield Store(redis=None, key_prefix="unused")
        return
    redis = await connect_redis()
    store = Store(redis=redis, key_prefix=f"dreamlust-test:rl:{uuid.uuid4().hex}")
    yield store
    await store.limiter().reset()
    await redis.aclose()


async def _spend(limiter: RateLimiter, rule: Limit, *identifiers: str, times: int = 2) -> None:
    for _ in range(times):
        await limiter.hit(rule, *identifiers)


async def test_the_hit_over_the_rate_is_refused_with_retry_after(store: Store) -> None:
    limiter = store.limiter()
    await _spend(limiter, Limit.LOGIN_PER_ACCOUNT, "alice@example.com")

    with pytest.raises(RateLimited) as refused:
        await limiter.hit(Limit.LOGIN_PER_ACCOUNT, "alice@example.com")

    assert refused.value.status == 429
    assert int(refused.value.headers["Retry-After"]) >= 1


async def test_retry_after_counts_down_the_window(store: Store) -> None:
    limiter = store.limiter(rate_limit_password_reset="1/minute")
    await limiter.hit(Limit.PASSWORD_RESET, "alice@example.com")

    with pytest.raises(RateLimited) as refused:
        await limiter.hit(Limit.PASSWORD_RESET, "alice@example.com")

    assert 1 < int(refused.value.headers["Retry-After"]) <= 60


async def test_identifiers_and_limits_are_counted_apart(store: Store) -> None:
    limiter = store.limiter()
    await _spend(limiter, Limit.LOGIN_PER_ACCOUNT, "alice@example.com")
    await _spend(limiter, Limit.LOGIN_PER_ACCOUNT, "a/b")

    await _spend(limiter, Limit.LOGIN_PER_ACCOUNT, "bob@example.com")
    await _spend(limiter, Limit.REGISTER, "alice@example.com")
    await _spend(limiter, Limit.LOGIN_PER_ACCOUNT, "a", "b")
    with pytest.raises(RateLimited):
        await limiter.hit(Limit.LOGIN_PER_ACCOUNT, "alice@example.com")


async def test_a_huge_identifier_is_counted_like_any_other(store: Store) -> None:
    limiter = store.limiter()
    huge = "x" * 1_000_000
    await _spend(limiter, Limit.LOGIN_PER_ACCOUNT, huge)

    with pytest.raises(RateLimited):
        await limiter.hit(Limit.LOGIN_PER_ACCOUNT, huge)


async def test_the_window_frees_again(store: Store) -> None:
    limiter = store.limiter()
    await _spend(limiter, Limit.LOGIN_PER_ACCOUNT, "alice@example.com")
    with pytest.raises(RateLimited):
        await limiter.hit(Limit.LOGIN_PER_ACCOUNT, "alice@example.com")

    await asyncio.sleep(1.2)

    await _spend(limiter, Limit.LOGIN_PER_ACCOUNT, "alice@example.com")


async def test_reset_forgets_every_count(store: Store) -> None:
    limiter = store.limiter()
    await _spend(limiter, Limit.LOGIN_PER_ACCOUNT, "alice@example.com")

    await limiter.reset()

    await _spend(limiter, Limit.LOGIN_PER_ACCOUNT, "alice@example.com")


async def test_a_disabled_limiter_never_refuses(store: Store) -> None:
    limiter = store.limiter(rate_limits_enabled=False)

    await _spend(limiter, Limit.LOGIN_PER_ACCOUNT, "alice@example.com", times=20)


async def test_a_general_limit_reports_what_is_left_of_its_window(store: Store) -> None:
    limiter = store.limiter(rate_limit_write_per_address="3/minute")
    left = []
    for _ in range(3):
        with reporting_quotas() as report:
            await limiter.hit(Limit.WRITE_PER_ADDRESS, "203.0.113.7")
        assert report.tightest is not None
        left.append(report.tightest.remaining)
    with pytest.raises(RateLimited) as refused:
        await limiter.hit(Limit.WRITE_PER_ADDRESS, "203.0.113.7")

    assert left == [2, 1, 0]
    assert refused.value.limit == "write_per_address"
    headers = refused.value.headers
    assert (headers["RateLimit-Limit"], headers["RateLimit-Remaining"]) == ("3", "0")
    assert 1 <= int(headers["Retry-After"]) <= 60
    assert headers["RateLimit-Reset"] == headers["Retry-After"]


async def test_a_writes_general_hits_count_together_and_the_first_over_refuses(
    store: Store,
) -> None:
    limiter = store.limiter(
        rate_limit_write_per_address="3/minute", rate_limit_write_per_account="2/minute"
    )

    def write() -> GeneralHits:
        hits = limiter.general_hits(
            (Limit.WRITE_PER_ADDRESS, "203.0.113.7"), (Limit.WRITE_PER_ACCOUNT, "alice")
        )
        assert hits is not None
        return hits

    left = []
    for _ in range(2):
        with reporting_quotas() as report:
            await write().count()
        assert report.tightest is not None
        left.append((report.tightest.limit, report.tightest.remaining))
    with pytest.raises(RateLimited) as refused:
        await write().count()
    with reporting_quotas() as report:
        await write().count(refuse=False)

    assert left == [(2, 1), (2, 0)]
    assert refused.value.limit == "write_per_account"
    assert report.tightest is not None
    assert report.tightest.remaining == 0  # counted and reported, not refused
    with pytest.raises(RateLimited) as by_address:
        await limiter.hit(Limit.WRITE_PER_ADDRESS, "203.0.113.7")
    assert by_address.value.limit == "write_per_address"  # all four writes counted there


async def test_a_disabled_limiter_has_no_general_hits(store: Store) -> None:
    limiter = store.limiter(rate_limits_enabled=False)

    assert limiter.general_hits((Limit.WRITE_PER_ADDRESS, "203.0.113.7")) is None


async def test_the_report_keeps_the_tightest_quota(store: Store) -> None:
    limiter = store.limiter(rate_limit_write_per_account="10/minute")
    with reporting_quotas() as report:
        await limiter.hit(Limit.WRITE_PER_ACCOUNT, "alice")
        await limiter.hit(Limit.LOGIN_PER_ACCOUNT, "alice@example.com")
        await limiter.hit(Limit.WRITE_PER_ACCOUNT, "alice")

    assert report.tightest is not None
    assert (report.tightest.limit, report.tightest.remaining) == (2, 1)
    assert report.tightest.reset == 1


async def test_a_general_limit_frees_again_in_the_next_window(store: Store) -> None:
    limiter = store.limiter(rate_limit_write_per_account=TWICE_A_SECOND)
    await _spend(limiter, Limit.WRITE_PER_ACCOUNT, "alice")
    with pytest.raises(RateLimited) as refused:
        await limiter.hit(Limit.WRITE_PER_ACCOUNT, "alice")

    await asyncio.sleep(int(refused.value.headers["Retry-After"]))

    await _spend(limiter, Limit.WRITE_PER_ACCOUNT, "alice")


def _hit(key: str, window: int, period: int = 60) -> _WindowHit:
    return _WindowHit(Limit.WRITE_PER_ADDRESS, 100, key, period, window, reset=1)


def test_in_memory_a_window_keeps_its_own_counts_and_the_next_drops_them() -> None:
    counts = WindowCounts()

    assert [counts.count(_hit("a", 7)) for _ in range(3)] == [1, 2, 3]
    assert counts.count(_hit("b", 7)) == 1
    assert counts.count(_hit("a", 7, period=3600)) == 1  # another window length apart
    assert len(counts) == 3

    assert counts.count(_hit("a", 8)) == 1
    assert len(counts) == 2  # the minute that ended is gone, the hour stays
    assert counts.count(_hit("b", 7)) == 1  # a late hit of the ended window: its first
    assert counts.count(_hit("a", 8)) == 2


def test_fewer_hits_left_is_tighter_and_then_the_longer_wait() -> None:
    assert Quota(limit=100, remaining=3, reset=5).is_tighter_than(Quota(5, 4, 60))
    assert Quota(limit=5, remaining=3, reset=60).is_tighter_than(Quota(100, 3, 5))
    assert not Quota(limit=5, remaining=3, reset=5).is_tighter_than(Quota(100, 3, 5))


async def test_limiters_on_one_redis_share_the_count(redis_url: str) -> None:
    """Two processes, each with its own runtime and Redis connections, count together."""
    settings = make_settings(UNUSED_DATABASE, REDIS_URL=redis_url, **TINY_RATES)
    account = f"{uuid.uuid4().hex}@example.com"
    first, second = Runtime.start(settings), Runtime.start(settings)
    try:
        await first.rate_limiter.hit(Limit.LOGIN_PER_ACCOUNT, account)
        await second.rate_limiter.hit(Limit.LOGIN_PER_ACCOUNT, account)
        with pytest.raises(RateLimited):
            await first.rate_limiter.hit(Limit.LOGIN_PER_ACCOUNT, account)
    finally:
        await first.close()
        await second.close()


def test_a_rate_that_is_not_a_rate_stops_startup() -> None:
    settings = make_settings(UNUSED_DATABASE, rate_limit_register="often")

    with pytest.raises(ValueError, match="rate_limit_register"):
        RateLimiter(settings)


async def test_a_refused_request_is_a_429_problem_with_retry_after() -> None:
    settings = make_settings(
        UNUSED_DATABASE, rate_limit_login_per_address="1/minute", trusted_proxies=["127.0.0.1"]
    )
    runtime = Runtime.start(settings)
    app = FastAPI()
    install_error_handlers(app)
    app.state.runtime = runtime

    @app.post("/login")
    async def login(limiter: RateLimiterDep, address: ClientAddress) -> dict[str, str]:
        await limiter.hit(Limit.LOGIN_PER_ADDRESS, address)
        return {"address": address}

    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            alice = {"X-Forwarded-For": "203.0.113.7"}
            first = await client.post("/login", headers=alice)
            refused = await client.post("/login", headers=alice)
            other = await client.post("/login", headers={"X-Forwarded-For": "203.0.113.8"})
    finally:
        await runtime.close()

    assert first.json() == {"address": "203.0.113.7"}
    assert refused.status_code == 429
    assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert other.status_code == 200


async def test_an_unreachable_redis_is_a_503_not_a_crash() -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:1/0")
    limiter = RateLimiter(make_settings(UNUSED_DATABASE), redis=unreachable)
    try:
        with pytest.raises(ServiceUnavailable) as refused:
            await limiter.hit(Limit.LOGIN_PER_ADDRESS, "203.0.113.9")
    finally:
        await unreachable.aclose()
    assert refused.value.status == 503
    assert refused.value.headers["Retry-After"] == "5"
