"""The live feed: which signed-in users have new notifications, told to every API process.

A feed carries no notifications, only the ids of the users who have new ones: each
stream that listens for one of them wakes up and reads what is new from the database.
So a message lost or repeated changes nothing but when a stream looks, and a stream
holds one flag however many messages arrive while its client is slow.

With Redis, a message is published on one channel and every process's subscriber passes
it to its own streams; after the subscription is lost and found again, every stream of
the process looks once, for what was published meanwhile. Without Redis the feed is the
process's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterable, Iterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CHANNEL = "dreamlust:notifications"
_RETRY_SECONDS = 1.0


class LiveFeed:
    def __init__(self, redis: Redis | None, channel: str = CHANNEL) -> None:
        self._redis = redis
        self._channel = channel
        self._listeners: dict[uuid.UUID, set[asyncio.Event]] = {}
        self._subscriber: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()

    @property
    def shared(self) -> bool:
        """Whether other processes hear what this one publishes (through Redis)."""
        return self._redis is not None

    async def publish(self, user_ids: Iterable[uuid.UUID]) -> None:
        """Tell every process's streams that these users have new notifications."""
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return
        if self._redis is None:
            self._wake(ids)
            return
        await self._redis.publish(self._channel, ",".join(user_id.hex for user_id in ids))

    @contextlib.contextmanager
    def listen(self, user_id: uuid.UUID) -> Iterator[asyncio.Event]:
        """A flag set whenever `user_id` may have new notifications, for as long as the
        block runs; the first listener of the process starts the Redis subscriber."""
        flag = asyncio.Event()
        self._listeners.setdefault(user_id, set()).add(flag)
        if self._redis is not None and self._subscriber is None:
            self._subscriber = asyncio.get_running_loop().create_task(self._subscribe(self._redis))
        try:
            yield flag
        finally:
            flags = self._listeners.get(user_id, set())
            flags.discard(flag)
            if not flags:
                self._listeners.pop(user_id, None)

    def listeners(self, user_id: uuid.UUID) -> int:
        """How many streams of this process listen for the user."""
        return len(self._listeners.get(user_id, ()))

    async def ready(self) -> None:
        """Wait until the process receives what is published (at once without Redis)."""
        if self._redis is not None:
            await self._subscribed.wait()

    async def close(self) -> None:
        if self._subscriber is not None:
            self._subscriber.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._subscriber
            self._subscriber = None

    async def _subscribe(self, redis: Redis) -> None:
        while True:
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    self._subscribed.set()
                    self._wake(list(self._listeners))
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._wake(_user_ids(message["data"]))
            except (RedisError, OSError) as exc:
                self._subscribed.clear()
                logger.warning("live feed lost Redis (%s); subscribing again", exc)
                await asyncio.sleep(_RETRY_SECONDS)

    def _wake(self, user_ids: Iterable[uuid.UUID]) -> None:
        for user_id in user_ids:
            for flag in self._listeners.get(user_id, ()):
                flag.set()


def _user_ids(data: bytes | str) -> list[uuid.UUID]:
    text = data.decode() if isinstance(data, bytes) else data
    ids = []
    for part in text.split(","):
        with contextlib.suppress(ValueError):
            ids.append(uuid.UUID(hex=part))
    return ids
