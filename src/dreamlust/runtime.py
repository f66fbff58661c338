"""What a running process holds: settings, database, Redis and the services built on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from dreamlust.access_tokens import AccessTokens
from dreamlust.billing.gateway import PaymentGateway, SandboxGateway
from dreamlust.cache import tracking
from dreamlust.cache.read_cache import ReadCache
from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.kit.keyed_locks import KeyedLocks
from dreamlust.kit.pagination import CursorCodec, Paginator
from dreamlust.kit.rate_limit import RateLimiter
from dreamlust.mail import Mailer, create_mailer
from dreamlust.media.storage import Storage, create_storage
from dreamlust.notifications.live import LiveFeed
from dreamlust.notifications.outlets import Outlets
from dreamlust.notifications.unsubscribe import UnsubscribeTokens


@dataclass
class Runtime:
    settings: Settings
    database: Database
    redis: Redis | None
    paginator: Paginator
    rate_limiter: RateLimiter
    access_tokens: AccessTokens
    mailer: Mailer
    payments: PaymentGateway
    live: LiveFeed
    storage: Storage
    unsubscribe_tokens: UnsubscribeTokens
    cache: ReadCache | None = None
    # Writes of an item's counters that go straight to the database take turns per item
    # in this process (see `views/service.py`).
    counter_writes: KeyedLocks = field(default_factory=KeyedLocks)

    @classmethod
    def start(cls, settings: Settings, *, database: Database | None = None) -> Runtime:
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        database = database or Database(settings)
        mailer = create_mailer(settings)
        live = LiveFeed(redis)
        unsubscribe_tokens = UnsubscribeTokens(settings.signing_key())
        Outlets(
            mailer=mailer,
            feed=live,
            unsubscribe=unsubscribe_tokens,
            public_url=settings.public_url,
        ).lend_to(database)
        cache = ReadCache.start(settings, redis)
        if cache is not None:
            tracking.lend_to(cache, database)
        return cls(
            settings=settings,
            database=database,
            redis=redis,
            paginator=Paginator(CursorCodec(settings.signing_key())),
            rate_limiter=RateLimiter(settings, redis=redis),
            access_tokens=AccessTokens(
                settings.signing_key(), timedelta(minutes=settings.access_token_minutes)
            ),
            mailer=mailer,
            payments=SandboxGateway(),
            live=live,
            unsubscribe_tokens=unsubscribe_tokens,
            storage=create_storage(settings),
            cache=cache,
        )

    async def close(self) -> None:
        await self.live.close()
        await self.storage.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.dispose()


def runtime_of(connection: HTTPConnection) -> Runtime:
    """The process's runtime. Code run on every request reads it from the request rather
    than depending on `RuntimeDep`: each dependency node costs FastAPI work per request."""
    runtime: Runtime = connection.app.state.runtime
    return runtime
