"""Rate limits on the actions worth abusing: logging in, registering, resetting a password …
and, more loosely, on every write at all.

Each limited action is a member of `Limit`, and its rate is the setting named after it
(`Limit.REGISTER` → `rate_limit_register`, e.g. "10/hour"). A new limit is a new setting
plus a new member; the limiter picks it up without further changes.

While a request runs inside `reporting_quotas()` (every write route does, see
`write_limits.py`), each limit it is counted against notes what it leaves the client; the
tightest of those becomes the request's `RateLimit-*` response headers.

The general limits on writes are counted together, in one round trip for all the limits a
write counts against (`GeneralHits`); in Redis by the Lua of `COUNT_GENERAL_HITS`, with
which a route's own script may begin, so that a write that calls Redis anyway (recording
a view) counts its hits in the same call.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from dreamlust.config import Settings
from dreamlust.errors import RateLimited, ServiceUnavailable

KEY_PREFIX = "dreamlust:rl"
_IDENTIFIER_DIGEST_BYTES = 16


logger = logging.getLogger(__name__)


class Limit(StrEnum):
    """A rate-limited action; its rate is the setting `rate_limit_<value>`."""

    LOGIN_PER_ACCOUNT = "login_per_account"
    LOGIN_PER_ADDRESS = "login_per_address"
    REGISTER = "register"
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a name, not a password)
    VERIFICATION_RESEND = "verification_resend"
    COMMENT = "comment"
    REPORT = "report"
    UPLOAD = "upload"
    WRITE_PER_ACCOUNT = "write_per_account"
    WRITE_PER_ADDRESS = "write_per_address"

    @property
    def setting(self) -> str:
        return f"rate_limit_{self.value}"

    @property
    def is_general(self) -> bool:
        """A limit on all writes alike, counted in fixed windows (see `RateLimiter`)."""
        return self in _GENERAL_LIMITS


_GENERAL_LIMITS = frozenset({Limit.WRITE_PER_ACCOUNT, Limit.WRITE_PER_ADDRESS})

# Counts the hits of the general limits in their windows. KEYS[1..n]: the windows' keys;
# ARGV[1]: n, then the windows' lengths in seconds, then the limits' amounts. Leaves each
# key's count in `counts` and whether any is over its amount in `refused`; the keys and
# arguments of a script that goes on after it start at `KEYS[hits + 1]` and
# `ARGV[2 * hits + 2]`. (It counts as `limits` counts a fixed window: the key expires a
# window after its first hit.)
COUNT_GENERAL_HITS = """
local hits = tonumber(ARGV[1])
local counts = {}
local refused = false
for i = 1, hits do
  counts[i] = redis.call('INCR', KEYS[i])
  if counts[i] == 1 then
    redis.call('EXPIRE', KEYS[i], ARGV[1 + i])
  end
  if counts[i] > tonumber(ARGV[1 + hits + i]) then
    refused = true
  end
end
"""
_COUNT_ONLY = COUNT_GENERAL_HITS + "return counts\n"


@dataclass(frozen=True, slots=True)
class Quota:
    """What one limit leaves one client: the fields of the `RateLimit-*` headers."""

    limit: int  # hits allowed per window
    remaining: int  # hits left now
    reset: int  # whole seconds until the window frees hits again, at least 1

    def is_tighter_than(self, other: Quota) -> bool:
        """Fewer hits left; on a tie, the longer wait."""
        return (self.remaining, -self.reset) < (other.remaining, -other.reset)

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }


class QuotaReport:
    """The tightest quota among the limits one request was counted against."""

    __slots__ = ("tightest",)

    def __init__(self) -> None:
        self.tightest: Quota | None = None

    def note(self, quota: Quota) -> None:
        if self.tightest is None or quota.is_tighter_than(self.tightest):
            self.tightest = quota


_current_report: ContextVar[QuotaReport | None] = ContextVar("quota_report", default=None)


@contextmanager
def reporting_quotas() -> Iterator[QuotaReport]:
    """Within this block, every limit counted notes its quota in the report yielded."""
    report = QuotaReport()
    token = _current_report.set(report)
    try:
        yield report
    finally:
        _current_report.reset(token)


class RateLimiter:
    """Counts hits per limit and identifiers; a hit over the rate raises `RateLimited`.

    The strict limits use the moving window: a rate of "5/minute" means at most five hits
    in *any* sixty seconds. A fixed window would let a client spend five hits at the end
    of one minute and five more at the start of the next, doubling the rate that password
    guessing actually gets; the sliding window counter only approximates the count. The
    moving window stores one timestamp per allowed hit, at most `amount` of them per key,
    which is cheap for the small amounts these limits use.

    The general write limits (`Limit.is_general`) allow hundreds of hits a minute and are
    counted on every write, so they use fixed windows aligned to the clock: the window is
    part of the key, one atomic increment both counts the hit and tells how many are
    left, and the seconds to the window's end are known without asking. A burst across a
    window's edge may reach twice the rate, which is no concern for a limit on overall
    volume. (The moving window would store hundreds of timestamps per client and need a
    second round trip for the remaining count.) All the general limits of one write are
    counted in one round trip (`GeneralHits`).

    Counts live in `redis` when it is given (the application's client: its connection pool
    serves both, and every process shares the counts), in process memory otherwise: the
    strict limits' in `limits`' memory storage, the general limits' in `WindowCounts`.
    """

    def __init__(
        self, settings: Settings, *, redis: Redis | None = None, key_prefix: str = KEY_PREFIX
    ) -> None:
        self.enabled = settings.rate_limits_enabled
        self._rates = {limit: _configured_rate(settings, limit) for limit in Limit}
        self._key_prefix = key_prefix
        self._storage = _storage(redis, key_prefix)
        self._moving_window = MovingWindowRateLimiter(self._storage)
        self._count_in_redis = redis.register_script(_COUNT_ONLY) if redis is not None else None
        self._counts_in_memory = WindowCounts()

    async def hit(self, rule: str, *identifiers: str) -> None:
        """Count one hit of `rule` (a `Limit`) for `identifiers`, or refuse it when over the rate.

        Identifiers are typically an account or a client address; any string is fine, since
        each is hashed to a short, fixed-size part of the storage key.
        """
        if not self.enabled:
            return
        limit = Limit(rule)
        if limit.is_general:
            await GeneralHits(self, (self._window_hit(limit, identifiers),)).count()
            return
        rate = self._rates[limit]
        key = _key(limit, identifiers)
        report = _current_report.get()
        try:
            allowed, quota = await self._count_in_moving_window(
                rate, key, wanted=report is not None
            )
        except RedisError as exc:
            raise _storage_unavailable(exc) from exc
        if quota is None:
            return
        if report is not None:
            report.note(quota)
        if not allowed:
            raise _refusal(limit, quota)

    def general_hits(self, *counted: tuple[Limit, str]) -> GeneralHits | None:
        """One write's hits of the general limits, each a limit and whom it counts (an
        address, an account), in the windows current now; None while limits are off."""
        if not self.enabled:
            return None
        return GeneralHits(
            self, tuple(self._window_hit(limit, (identifier,)) for limit, identifier in counted)
        )

    async def reset(self) -> None:
        """Forget every count of this limiter (tests, or an admin lifting all limits at once).

        On Redis this deletes the keys under this limiter's prefix with one `KEYS` scan.
        """
        await self._storage.reset()
        self._counts_in_memory = WindowCounts()

    async def _count_in_moving_window(
        self, rate: RateLimitItem, key: tuple[str, ...], *, wanted: bool
    ) -> tuple[bool, Quota | None]:
        """Whether the hit is allowed, and the quota left: always for a refused hit, for an
        allowed one only when `wanted` (it costs a second round trip)."""
        allowed = await self._moving_window.hit(rate, *key)
        if allowed and not wanted:
            return True, None
        window = await self._moving_window.get_window_stats(rate, *key)
        # Until the oldest hit leaves the window, which frees one more.
        reset = max(math.ceil(window.reset_time - time.time()), 1)
        if allowed:
            return True, Quota(rate.amount, max(window.remaining, 0), reset)
        # A hit may have left the window since ours was refused: then try again at once.
        return False, Quota(rate.amount, 0, reset if window.remaining <= 0 else 1)

    def _window_hit(self, limit: Limit, identifiers: tuple[str, ...]) -> _WindowHit:
        rate = self._rates[limit]
        period = rate.get_expiry()
        now = time.time()
        window = int(now // period)
        key = rate.key_for(*_key(limit, identifiers), str(window))
        reset = max(math.ceil((window + 1) * period - now), 1)
        return _WindowHit(limit, rate.amount, key, period, window, reset)

    async def _count_general(self, hits: GeneralHits) -> list[int]:
        try:
            if self._count_in_redis is not None:
                counts: list[int] = await self._count_in_redis(keys=hits.keys, args=hits.arguments)
                return counts
            return [self._counts_in_memory.count(hit) for hit in hits.hits]
        except RedisError as exc:
            raise _storage_unavailable(exc) from exc


@dataclass(frozen=True, slots=True)
class _WindowHit:
    """A hit of a general limit in its current window."""

    limit: Limit
    amount: int
    key: str  # in process memory; in Redis under the limiter's prefix, as `limits` keeps it
    period: int
    window: int  # which window of `period` seconds since the epoch
    reset: int  # seconds to the window's end


class WindowCounts:
    """The general limits' counts in process memory: for each window length, the counts
    of the current window, dropped whole when the next one begins.

    `limits`' memory storage, after each hit, walks every key it holds to expire the old
    ones: a write cost more the more clients had written within the window (with 2,000
    accounts counted, a view cost twice the CPU: bench/README.md). Here a hit costs the
    same whoever else wrote.
    """

    def __init__(self) -> None:
        self._current: dict[int, tuple[int, Counter[str]]] = {}

    def count(self, hit: _WindowHit) -> int:
        """Count `hit` in its window; the window's count so far. A hit of a window that
        has just ended (its request began before the next one) counts as that window's
        first."""
        current = self._current.get(hit.period)
        if current is not None and hit.window < current[0]:
            return 1
        if current is None or hit.window > current[0]:
            current = self._current[hit.period] = (hit.window, Counter())
        counts = current[1]
        counts[hit.key] += 1
        return counts[hit.key]

    def __len__(self) -> int:
        """How many counts are kept."""
        return sum(len(counts) for _window, counts in self._current.values())


class GeneralHits:
    """The hits of one write on the general limits, counted together: by `count()`, or in
    Redis by a route's own script that begins with `COUNT_GENERAL_HITS`, given `keys` and
    `arguments` before its own, whose counts `settle()` then reads."""

    def __init__(self, limiter: RateLimiter, hits: tuple[_WindowHit, ...]) -> None:
        self._limiter = limiter
        self.hits = hits

    @property
    def keys(self) -> list[str]:
        """The hits' keys in Redis."""
        return [f"{self._limiter._key_prefix}:{hit.key}" for hit in self.hits]

    @property
    def arguments(self) -> list[int]:
        return [len(self.hits), *(hit.period for hit in self.hits), *(h.amount for h in self.hits)]

    async def count(self, *, refuse: bool = True) -> None:
        """Count the hits, refusing the write when one is over its limit (unless not to
        `refuse`: the write was answered already)."""
        self.settle(await self._limiter._count_general(self), refuse=refuse)

    def settle(self, counts: Sequence[int], *, refuse: bool = True) -> None:
        """Note what the `counts` of the hits leave the client in the request's report,
        and refuse the write when one is over its limit (unless not to `refuse`)."""
        report = _current_report.get()
        refused: tuple[Limit, Quota] | None = None
        for hit, count in zip(self.hits, counts, strict=True):
            quota = Quota(hit.amount, max(hit.amount - count, 0), hit.reset)
            if report is not None:
                report.note(quota)
            if count > hit.amount and refused is None:
                refused = hit.limit, quota
        if refused is not None and refuse:
            raise _refusal(*refused)


def _key(limit: Limit, identifiers: tuple[str, ...]) -> tuple[str, ...]:
    return (limit.value, *map(_digest, identifiers))


def _refusal(limit: Limit, quota: Quota) -> RateLimited:
    return RateLimited(
        f"Too many requests; try again in {quota.reset} seconds.",
        retry_after=quota.reset,
        headers=quota.headers(),
        limit=limit.value,
    )


def _storage_unavailable(exc: RedisError) -> ServiceUnavailable:
    # Without its counts the limiter cannot protect the endpoint: refuse, clearly.
    logger.error("rate limiter storage unavailable: %s", exc)
    return ServiceUnavailable(
        "This action is briefly unavailable; try again shortly.", retry_after=5
    )


def _configured_rate(settings: Settings, limit: Limit) -> RateLimitItem:
    value: str = getattr(settings, limit.setting)
    try:
        return parse(value)
    except ValueError as exc:
        raise ValueError(f"{limit.setting} is not a rate like '5/minute': {value!r}") from exc


def _storage(redis: Redis | None, key_prefix: str) -> Storage:
    if redis is None:
        return MemoryStorage()
    # Given a connection pool, `limits` ignores the URI's address: it only selects the
    # storage. The pool is documented as an option although the options are typed as scalars.
    return RedisStorage(
        "async+redis://",
        implementation="redispy",
        key_prefix=key_prefix,
        connection_pool=redis.connection_pool,  # type: ignore[arg-type]
    )


def _digest(identifier: str) -> str:
    return hashlib.blake2b(
        identifier.encode(), digest_size=_IDENTIFIER_DIGEST_BYTES, usedforsecurity=False
    ).hexdigest()
