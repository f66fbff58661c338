"""What a running process holds: settings, the database, Redis and the cursor codec."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.kit.pagination import CursorCodec, Paginator


@dataclass
class Runtime:
    settings: Settings
    database: Database
    redis: Redis | None
    paginator: Paginator

    @classmethod
    def start(cls, settings: Settings, *, database: Database | None = None) -> Runtime:
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        return cls(
            settings=settings,
            database=database or Database(settings),
            redis=redis,
            paginator=Paginator(CursorCodec(settings.signing_key())),
        )

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        await self.database.dispose()
