"""Views buffered in Redis between the request that records them and the worker's flush.

A request costs Redis one script call and the database nothing: the viewer's dedup key
is set (`SET NX EX`, the dedup window) and, only when it was new, the view is appended
to the *pending* list, both at once. The flush works on a *processing* batch: while none
exists, the pending list is renamed to it (views recorded meanwhile start a new pending
list); the batch is stored under view ids (idempotent), then deleted. Each batch carries
an id, and only a flush that read the very batch still in place deletes it, so a flush
that dies, or two flushes running at once, neither lose a view nor count one twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from redis.asyncio import Redis

from dreamlust.kit.ids import new_id

# KEYS: the viewer's dedup key, pending. ARGV: the window in seconds, the view.
_RECORD = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  return 1
end
return 0
"""

# KEYS: pending, processing, batch id. ARGV: an id for a new batch.
_CLAIM = """
if redis.call('EXISTS', KEYS[2]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then
    return false
  end
  redis.call('RENAME', KEYS[1], KEYS[2])
  redis.call('DEL', KEYS[3])
end
redis.call('SET', KEYS[3], ARGV[1], 'NX')
return redis.call('GET', KEYS[3])
"""

# KEYS: processing, batch id. ARGV: the id of the batch that was stored.
_FINISH = """
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class BufferedView:
    """A view waiting in Redis; its id, given when it was recorded, makes storing it idempotent."""

    id: uuid.UUID
    content_id: uuid.UUID
    user_id: uuid.UUID | None
    viewer_hash: str
    user_agent: str | None
    watch_duration: int | None
    created_at: datetime

    def dumps(self) -> bytes:
        # `default=str` for the UUID subclass asyncpg hands back, which orjson does not know.
        return orjson.dumps(self, default=str)

    @classmethod
    def loads(cls, raw: bytes | str) -> BufferedView:
        data = orjson.loads(raw)
        return cls(
            id=uuid.UUID(data["id"]),
            content_id=uuid.UUID(data["content_id"]),
            user_id=uuid.UUID(data["user_id"]) if data["user_id"] else None,
            viewer_hash=data["viewer_hash"],
            user_agent=data["user_agent"],
            watch_duration=data["watch_duration"],
            created_at=datetime.fromisoformat(data["created_at"]),
        )

    def row(self, *, user_exists: bool) -> dict[str, Any]:
        """The view's row; a user deleted since the view was recorded is left out."""
        return {
            "id": self.id,
            "content_id": self.content_id,
            "user_id": self.user_id if user_exists else None,
            "viewer_hash": self.viewer_hash,
            "user_agent": self.user_agent,
            "watch_duration": self.watch_duration,
            "created_at": self.created_at,
        }


class ViewBuffer:
    """The Redis keys of the buffer, all under `prefix`."""

    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix
        self.pending = f"{prefix}:pending"
        self.processing = f"{prefix}:processing"
        self.batch = f"{prefix}:batch"
        self._record = redis.register_script(_RECORD)
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)

    def seen_key(self, content_id: uuid.UUID, viewer_hash: str) -> str:
        """Exists while this viewer's last counted view of the item is within the window."""
        return f"{self.prefix}:seen:{content_id}:{viewer_hash}"

    async def record(self, view: BufferedView, window_seconds: int) -> bool:
        """Buffer the view unless its viewer was counted within the window; whether it was."""
        seen = self.seen_key(view.content_id, view.viewer_hash)
        added = await self._record(keys=[seen, self.pending], args=[window_seconds, view.dumps()])
        return bool(added)

    async def claim_batch(self) -> str | None:
        """The id of the batch to store: the one left by an earlier flush, else the pending
        views renamed to a new batch; None when nothing waits."""
        batch = await self._claim(
            keys=[self.pending, self.processing, self.batch], args=[new_id().hex]
        )
        return batch.decode() if batch is not None else None

    async def read(self, start: int, count: int) -> list[BufferedView]:
        raw = await self.redis.lrange(self.processing, start, start + count - 1)
        return [BufferedView.loads(item) for item in raw]

    async def finish_batch(self, batch: str) -> bool:
        """Delete the batch once stored, unless another flush already replaced it."""
        return bool(await self._finish(keys=[self.processing, self.batch], args=[batch]))

    async def backlog(self) -> int:
        """How many views wait to be stored: the pending ones and a batch being flushed."""
        async with self.redis.pipeline(transaction=False) as pipeline:
            pipeline.llen(self.pending)
            pipeline.llen(self.processing)
            pending, processing = await pipeline.execute()
        return int(pending) + int(processing)
