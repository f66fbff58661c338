"""Where entries and scope generations live: Redis, shared by every process, or a
bounded LRU in the process when there is no Redis.

A scope's generation is a counter that a write moves on; an entry remembers the
generations it was read under and counts only while they are still current."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Protocol

from redis.asyncio import Redis

from dreamlust.cache.entries import Entry

Lookup = tuple[tuple[int, ...], Entry | None]

# Deletes the lock only if it is still ours (it may have expired and been taken since).
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class Store(Protocol):
    async def lookup(self, key: str, scopes: Sequence[str]) -> Lookup:
        """The scopes' current generations and the entry under `key`, if any."""

    async def put(self, key: str, entry: Entry, keep_seconds: float) -> None: ...

    async def bump(self, scopes: Iterable[str]) -> None:
        """Move each scope's generation on: every entry read under it stops counting."""

    async def lock(self, key: str, token: str, seconds: float) -> bool:
        """Take the right to recompute `key` for `seconds`; False if another has it."""

    async def unlock(self, key: str, token: str) -> None: ...


class RedisStore:
    """Entries as `<prefix>:e:<key>` (expiring), generations as `<prefix>:g:<scope>`,
    recompute locks as `<prefix>:l:<key>`. A lookup is one MGET round trip."""

    def __init__(self, redis: Redis, prefix: str, generation_seconds: float) -> None:
        self._redis = redis
        self._prefix = prefix
        # A generation outlives every entry read under it, so when its key expires and it
        # starts again from 0, no entry that remembers an old value is left.
        self._generation_ms = int(generation_seconds * 1000)
        self._unlock = redis.register_script(_UNLOCK)

    def _entry_key(self, key: str) -> str:
        return f"{self._prefix}:e:{key}"

    def _scope_key(self, scope: str) -> str:
        return f"{self._prefix}:g:{scope}"

    def _lock_key(self, key: str) -> str:
        return f"{self._prefix}:l:{key}"

    def generation_keys(self, scopes: Sequence[str]) -> list[str]:
        return [self._scope_key(scope) for scope in scopes]

    async def lookup(self, key: str, scopes: Sequence[str]) -> Lookup:
        values = await self._redis.mget([*map(self._scope_key, scopes), self._entry_key(key)])
        *generations, data = values
        entry = Entry.decode(data) if isinstance(data, bytes) else None
        return tuple(int(value) if value is not None else 0 for value in generations), entry

    async def put(self, key: str, entry: Entry, keep_seconds: float) -> None:
        await self._redis.set(self._entry_key(key), entry.encode(), px=int(keep_seconds * 1000))

    async def bump(self, scopes: Iterable[str]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for scope in scopes:
                pipe.incr(self._scope_key(scope))
                pipe.pexpire(self._scope_key(scope), self._generation_ms)
            await pipe.execute()

    async def lock(self, key: str, token: str, seconds: float) -> bool:
        taken = await self._redis.set(self._lock_key(key), token, nx=True, px=int(seconds * 1000))
        return bool(taken)

    async def unlock(self, key: str, token: str) -> None:
        await self._unlock(keys=[self._lock_key(key)], args=[token])


class MemoryStore:
    """A least-recently-used map of at most `max_entries` entries, and the generations
    of the most recently moved scopes. One process only: its own single-flight already
    keeps a key to one recompute, so `lock` always succeeds."""

    def __init__(self, max_entries: int) -> None:
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._max_entries = max_entries
        self._generations: OrderedDict[str, int] = OrderedDict()
        self._max_generations = max_entries * 4
        self._moves = 0
        # What a scope no longer remembered reads as: at least every value forgotten, so
        # an entry read under a forgotten generation never counts again.
        self._floor = 0

    def _generation(self, scope: str) -> int:
        return self._generations.get(scope, self._floor)

    async def lookup(self, key: str, scopes: Sequence[str]) -> Lookup:
        generations = tuple(self._generation(scope) for scope in scopes)
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return generations, entry

    async def put(self, key: str, entry: Entry, keep_seconds: float) -> None:
        # An entry past its time is never served (see ReadCache); the bound on the
        # number of entries is what keeps memory in check.
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    async def bump(self, scopes: Iterable[str]) -> None:
        for scope in scopes:
            self._moves += 1
            self._generations[scope] = self._moves
            self._generations.move_to_end(scope)
        while len(self._generations) > self._max_generations:
            _, forgotten = self._generations.popitem(last=False)
            self._floor = max(self._floor, forgotten)

    async def lock(self, key: str, token: str, seconds: float) -> bool:
        return True

    async def unlock(self, key: str, token: str) -> None:
        return None
