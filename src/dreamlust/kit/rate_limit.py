"""Rate limits on the actions worth abusing: logging in, registering, resetting a password …

Each limited action is a member of `Limit`, and its rate is the setting named after it
(`Limit.REGISTER` → `rate_limit_register`, e.g. "10/hour"). A new limit is a new setting
plus a new member; the limiter picks it up without further changes.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
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

    @property
    def setting(self) -> str:
        return f"rate_limit_{self.value}"


class RateLimiter:
    """Counts hits per limit and identifiers; a hit over the rate raises `RateLimited`.

    The strategy is the moving window: a rate of "5/minute" means at most five hits in
    *any* sixty seconds. A fixed window would let a client spend five hits at the end of
    one minute and five more at the start of the next, doubling the rate that password
    guessing actually gets; the sliding window counter only approximates the count. The
    moving window stores one timestamp per allowed hit, at most `amount` of them per key,
    which is cheap for the small amounts these limits use.

    Counts live in `redis` when it is given (the application's client: its connection pool
    serves both, and every process shares the counts), in process memory otherwise.
    """

    def __init__(
        self, settings: Settings, *, redis: Redis | None = None, key_prefix: str = KEY_PREFIX
    ) -> None:
        self.enabled = settings.rate_limits_enabled
        self._rates = {limit: _configured_rate(settings, limit) for limit in Limit}
        self._storage = _storage(redis, key_prefix)
        self._strategy = MovingWindowRateLimiter(self._storage)

    async def hit(self, rule: str, *identifiers: str) -> None:
        """Count one hit of `rule` (a `Limit`) for `identifiers`, or refuse it when over the rate.

        Identifiers are typically an account or a client address; any string is fine, since
        each is hashed to a short, fixed-size part of the storage key.
        """
        if not self.enabled:
            return
        limit = Limit(rule)
        rate = self._rates[limit]
        key = (limit.value, *map(_digest, identifiers))
        try:
            if await self._strategy.hit(rate, *key):
                return
            retry_after = await self._retry_after(rate, key)
        except RedisError as exc:
            # Without its counts the limiter cannot protect the endpoint: refuse, clearly.
            logger.error("rate limiter storage unavailable: %s", exc)
            raise ServiceUnavailable(
                "This action is briefly unavailable; try again shortly.", retry_after=5
            ) from exc
        raise RateLimited(
            f"Too many attempts; try again in {retry_after} seconds.", retry_after=retry_after
        )

    async def reset(self) -> None:
        """Forget every count of this limiter (tests, or an admin lifting all limits at once).

        On Redis this deletes the keys under this limiter's prefix with one `KEYS` scan.
        """
        await self._storage.reset()

    async def _retry_after(self, rate: RateLimitItem, key: tuple[str, ...]) -> int:
        """Whole seconds until the window has room for one more hit, at least 1."""
        window = await self._strategy.get_window_stats(rate, *key)
        if window.remaining > 0:
            return 1
        return max(math.ceil(window.reset_time - time.time()), 1)


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
