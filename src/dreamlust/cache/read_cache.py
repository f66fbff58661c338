"""The read cache: one lookup per request, one recompute per key.

Keys and scopes. An answer is kept under a key naming everything that changes it (the
endpoint, the kind of viewer, the parameters) and is read under one or more *scopes*:
`catalog` (creators and categories), `lists` (any content), `content:<id>` (one item).
A write moves the generation of each scope it touches, after it commits
(`tracking`); an entry remembers the generations it was read under, and one whose
generations are no longer current is never served, not even as a stale copy.

Why generations rather than deleting keys: one write changes an unbounded set of keys
(every trending window, type filter, page cursor and page size, for every kind of
viewer), which could only be found by scanning. Moving a counter is one O(1) command,
and the generations are read in the same round trip as the entry (MGET). They also
close the race between a recompute and a write: the generations are read *before*
the query, so an answer computed while a write commits is stored under the old
generation and never counts; a deletion made in that window would be undone by the
late store.

Freshness. An entry is fresh for `DREAMLUST_CACHE_TTL_SECONDS`, which bounds how stale
counters (views, likes, comments, followers, tag usage) and trending order can be: they
change without invalidating anything. For another TTL it is kept as a stale copy,
served only while another request recomputes it.

Stampedes. In a process, the requests for one key share one recompute (single flight).
Across processes, the recompute takes a short Redis lock (SET NX PX); the others serve
the stale copy when there is one, or poll briefly for the new entry (and compute it
themselves if the lock's holder takes longer than the lock lives).

Redis unavailable: the request is answered uncached and the failure logged.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from dreamlust.cache.entries import Answer, Entry
from dreamlust.cache.stores import MemoryStore, RedisStore, Store
from dreamlust.config import Settings
from dreamlust.observability.metrics import CACHE_LOOKUPS

logger = logging.getLogger(__name__)

Fill = Callable[[], Awaitable[Answer]]
Outcome = tuple[Answer, str]
HIT, MISS, STALE = "hit", "miss", "stale"
LOCK_SECONDS = 5.0
_FIRST_POLL_SECONDS = 0.005
_LAST_POLL_SECONDS = 0.05


class ReadCache:
    def __init__(
        self, store: Store, *, ttl_seconds: float, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock  # wall time: entries in Redis are shared between machines
        self._in_flight: dict[str, asyncio.Future[Outcome]] = {}
        self._counters: dict[tuple[str, str], Counter] = {}

    @classmethod
    def start(
        cls, settings: Settings, redis: Redis | None, *, clock: Callable[[], float] = time.time
    ) -> ReadCache | None:
        """The process's cache as configured; None when it is switched off."""
        if not settings.cache_enabled:
            return None
        ttl = settings.cache_ttl_seconds
        store: Store
        if redis is not None:
            # A generation outlives every entry read under it (kept 2 TTL, stored at
            # most a lock's life after it was read).
            store = RedisStore(redis, settings.cache_prefix, 2 * ttl + 2 * LOCK_SECONDS)
        else:
            store = MemoryStore(settings.cache_max_entries)
        return cls(store, ttl_seconds=ttl, clock=clock)

    async def fetch(self, name: str, key: str, scopes: Sequence[str], fill: Fill) -> Answer:
        """The answer under `key`, from the cache or from `fill` (stored for the next);
        `name` labels the lookup in the metrics."""
        try:
            answer, outcome = await self._fetch(key, scopes, fill)
        except RedisError:
            logger.warning("the read cache is unavailable; answering uncached", exc_info=True)
            answer, outcome = await fill(), MISS
        self._count(name, outcome)
        return answer

    async def invalidate(self, scopes: Iterable[str]) -> None:
        """Every answer read under any of `scopes` stops counting."""
        await self._store.bump(scopes)

    def generation_keys(self, scopes: Sequence[str]) -> list[str] | None:
        """The Redis keys of the scopes' generations (missing: generation 0), for a script
        that keeps an answer of its own under them in the same round trip; None when the
        cache lives in the process. A generation key lives at least `2 * LOCK_SECONDS`
        after its last move, so an answer kept for less can never meet a generation
        that expired and started again from 0."""
        if isinstance(self._store, RedisStore):
            return self._store.generation_keys(scopes)
        return None

    async def _fetch(self, key: str, scopes: Sequence[str], fill: Fill) -> Outcome:
        generations, entry = await self._store.lookup(key, scopes)
        stale = None
        if entry is not None and entry.is_current(generations):
            now = self._clock()
            if now < entry.fresh_until:
                return entry.answer, HIT
            if now < entry.fresh_until + self._ttl:
                stale = entry
        if stale is not None and key in self._in_flight:
            return stale.answer, STALE
        return await self._single_flight(key, lambda: self._refill(key, scopes, stale, fill))

    async def _single_flight(self, key: str, run: Callable[[], Awaitable[Outcome]]) -> Outcome:
        """Run `run` once for every concurrent caller with the same key in this process."""
        while (pending := self._in_flight.get(key)) is not None:
            try:
                return await asyncio.shield(pending)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if not pending.cancelled() or (task is not None and task.cancelling()):
                    raise
                # The leading request was cancelled: the next one leads.
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = future
        try:
            outcome = await run()
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters raise it too
            raise
        else:
            future.set_result(outcome)
            return outcome
        finally:
            del self._in_flight[key]

    async def _refill(
        self, key: str, scopes: Sequence[str], stale: Entry | None, fill: Fill
    ) -> Outcome:
        token = secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_SECONDS
        delay = _FIRST_POLL_SECONDS
        while not await self._store.lock(key, token, LOCK_SECONDS):
            if stale is not None:
                return stale.answer, STALE
            if time.monotonic() >= deadline:
                generations, _ = await self._store.lookup(key, scopes)
                return await self._compute(key, generations, fill), MISS
            await asyncio.sleep(delay)
            delay = min(2 * delay, _LAST_POLL_SECONDS)
            if (found := await self._fresh(key, scopes)) is not None:
                return found, HIT
        try:
            # Another process may have stored it between our lookup and the lock.
            generations, entry = await self._store.lookup(key, scopes)
            if (found := self._fresh_answer(generations, entry)) is not None:
                return found, HIT
            return await self._compute(key, generations, fill), MISS
        finally:
            await self._store.unlock(key, token)

    async def _fresh(self, key: str, scopes: Sequence[str]) -> Answer | None:
        return self._fresh_answer(*await self._store.lookup(key, scopes))

    def _fresh_answer(self, generations: tuple[int, ...], entry: Entry | None) -> Answer | None:
        if entry is None or not entry.is_current(generations):
            return None
        return entry.answer if self._clock() < entry.fresh_until else None

    async def _compute(self, key: str, generations: tuple[int, ...], fill: Fill) -> Answer:
        """`generations` were read before `fill` runs: see the module's docstring."""
        answer = await fill()
        entry = Entry(answer, generations, self._clock() + self._ttl)
        await self._store.put(key, entry, keep_seconds=2 * self._ttl)
        return answer

    def _count(self, name: str, outcome: str) -> None:
        counter = self._counters.get((name, outcome))
        if counter is None:
            counter = self._counters[name, outcome] = CACHE_LOOKUPS.labels(
                cache=name, outcome=outcome
            )
        counter.inc()
