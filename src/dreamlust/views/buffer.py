"""Views buffered in Redis between the request that records them and the worker's flush.

A request costs Redis one script call and the database nothing: the write's hits of the
general rate limits are counted (nothing more happens when one refuses it), the viewer's
dedup key is set (`SET NX EX`, the dedup window) and, only when it was new, the view is
appended to the *pending* list, all at once.

Whether the viewer may open the item is answered in the same call when the read cache
lives in Redis: the answer "listed for this kind of viewer" is kept for
`LISTING_SECONDS` under the generations of the item's cache scopes (`content:<id>` and
`catalog`), which every ORM change of the item or of a creator moves after it commits
(`cache/tracking.py`: moderation, unpublishing, deletion, suspension …). The script
compares the kept generations with the current ones; when they differ (or nothing is
kept) it records nothing and hands back the current generations, the item is read from
the database, and the next call records the view and, if the item is listed, keeps the
answer under the generations read *before* the query: a change that commits meanwhile
moves them, so a stale answer never counts (as in `cache/read_cache.py`). Only "listed"
is kept: an item an owner or staff may open without its being listed, or one that is
hidden, is read from the database on every view.

The flush works on a *processing* batch: while none
exists, the pending list is renamed to it (views recorded meanwhile start a new pending
list); the batch is stored under view ids (idempotent), then deleted. Each batch carries
an id, and only a flush that read the very batch still in place deletes it, so a flush
that dies, or two flushes running at once, neither lose a view nor count one twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from redis.asyncio import Redis

from dreamlust.cache.tracking import CATALOG, content_scope
from dreamlust.content.visibility import Viewer
from dreamlust.kit.ids import new_id
from dreamlust.kit.rate_limit import COUNT_GENERAL_HITS, GeneralHits
from dreamlust.users.preferences import NsfwPolicy

GenerationKeys = Callable[[Sequence[str]], list[str] | None]

# How long "this item is listed for this kind of viewer" is kept. Changes invalidate it
# at once; the limit only bounds the keys of items nobody views any more. Below the life
# of a cache generation (`ReadCache.generation_keys`: at least 10 s).
LISTING_SECONDS = 2.0

# Begins by counting the write's general limits (`COUNT_GENERAL_HITS`: their keys and
# arguments come first), and records nothing when one refuses the write. Then KEYS: the
# viewer's dedup key, pending; to check the item's listing as well: the kept listing and
# the generations of the item's cache scopes. ARGV: the window in seconds, the view; with
# a listing: the generations to keep it under ('' to check it instead) and for how many
# milliseconds.
# Returns the outcome and then the limits' counts. The outcome is 1 (counted), 0 (counted
# within the window already, or refused) or, when the listing is not known, the current
# generations and nothing recorded.
_RECORD = (
    COUNT_GENERAL_HITS
    + """
local k = hits
local a = 2 * hits + 1
local function answer(outcome)
  return {outcome, unpack(counts)}
end
if refused then
  return answer(0)
end
if #KEYS > k + 2 then
  if ARGV[a + 3] ~= '' then
    redis.call('SET', KEYS[k + 3], ARGV[a + 3], 'PX', ARGV[a + 4])
  else
    local generations = redis.call('MGET', unpack(KEYS, k + 4))
    for i = 1, #generations do
      if not generations[i] then generations[i] = '0' end
    end
    local current = table.concat(generations, ':')
    if redis.call('GET', KEYS[k + 3]) ~= current then
      return answer(current)
    end
  end
end
if redis.call('SET', KEYS[k + 1], '1', 'NX', 'EX', ARGV[a + 1]) then
  redis.call('RPUSH', KEYS[k + 2], ARGV[a + 2])
  return answer(1)
end
return answer(0)
"""
)

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
class Listing:
    """Where "this item is listed for this kind of viewer" is kept, and the Redis keys of
    the cache generations it is kept under."""

    key: str
    generations: tuple[str, ...]


@dataclass(frozen=True)
class Unknown:
    """The item's listing is not kept: read it, then record under these generations."""

    generations: str


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

    def __init__(
        self, redis: Redis, prefix: str, generation_keys: GenerationKeys | None = None
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self._generation_keys = generation_keys
        self.pending = f"{prefix}:pending"
        self.processing = f"{prefix}:processing"
        self.batch = f"{prefix}:batch"
        self._record = redis.register_script(_RECORD)
        self._claim = redis.register_script(_CLAIM)
        self._finish = redis.register_script(_FINISH)

    def seen_key(self, content_id: uuid.UUID, viewer_hash: str) -> str:
        """Exists while this viewer's last counted view of the item is within the window."""
        return f"{self.prefix}:seen:{content_id}:{viewer_hash}"

    def listing(self, content_id: uuid.UUID, viewer: Viewer) -> Listing | None:
        """Where the item's listing for this kind of viewer is kept; None when the read
        cache is not in Redis (nothing would invalidate it)."""
        if self._generation_keys is None:
            return None
        generations = self._generation_keys([CATALOG, content_scope(content_id)])
        if generations is None:
            return None
        kind = ("h" if viewer.nsfw_policy is NsfwPolicy.HIDE else "s") + (
            "a" if viewer.is_adult else "m"
        )
        return Listing(f"{self.prefix}:listed:{content_id}:{kind}", tuple(generations))

    async def record(self, view: BufferedView, window_seconds: int) -> bool:
        """Buffer the view unless its viewer was counted within the window; whether it was."""
        return bool(await self._call(view, window_seconds, None))

    async def record_if_listed(
        self,
        view: BufferedView,
        window_seconds: int,
        listing: Listing,
        hits: GeneralHits | None = None,
    ) -> bool | Unknown:
        """`record` if the item is known to be listed; otherwise nothing is recorded and
        the generations to read the item under are returned. With the write's `hits` of
        the general limits, they are counted in the same call (and a refusal records
        nothing)."""
        outcome = await self._call(view, window_seconds, hits, listing, "")
        if isinstance(outcome, bytes | str):
            return Unknown(outcome.decode() if isinstance(outcome, bytes) else outcome)
        return bool(outcome)

    async def record_listed(
        self, view: BufferedView, window_seconds: int, listing: Listing, read_under: Unknown
    ) -> bool:
        """`record`, keeping that the item is listed, as read under `read_under`."""
        return bool(await self._call(view, window_seconds, None, listing, read_under.generations))

    async def _call(
        self,
        view: BufferedView,
        window_seconds: int,
        hits: GeneralHits | None,
        listing: Listing | None = None,
        generations: str = "",
    ) -> int | bytes | str:
        keys = [
            *(hits.keys if hits is not None else ()),
            self.seen_key(view.content_id, view.viewer_hash),
            self.pending,
        ]
        args: list[str | int | bytes] = [
            *(hits.arguments if hits is not None else (0,)),
            window_seconds,
            view.dumps(),
        ]
        if listing is not None:
            keys += [listing.key, *listing.generations]
            args += [generations, int(LISTING_SECONDS * 1000)]
        outcome, *counts = await self._record(keys=keys, args=args)
        if hits is not None:
            hits.settle(counts)
        return cast(int | bytes | str, outcome)

    async def claim_batch(self) -> str | None:
        """The id of the batch to store: the one left by an earlier flush, else the pending
        views renamed to a new batch; None when nothing waits."""
        batch = await self._claim(
            keys=[self.pending, self.processing, self.batch], args=[new_id().hex]
        )
        return batch.decode() if batch is not None else None

    async def read(self, start: int, count: int) -> list[BufferedView]:
        # redis-py types its commands for both clients: awaited, this one is a list.
        listed = self.redis.lrange(self.processing, start, start + count - 1)
        raw = await cast(Awaitable[list[bytes]], listed)
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
