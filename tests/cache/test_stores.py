"""The in-process store stays bounded without ever reviving an entry a write dropped;
without a reachable Redis, reads are answered uncached."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.cache.entries import Answer, Entry
from dreamlust.cache.stores import MemoryStore
from dreamlust.config import Settings
from dreamlust.db import Database
from tests.fixtures.factories import make_content, make_creator
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.serving import served


async def test_an_entry_dropped_by_a_write_stays_dropped_once_its_scope_is_forgotten() -> None:
    store = MemoryStore(max_entries=1)  # remembers the generations of 4 scopes
    generations, _ = await store.lookup("page", ["content:a"])
    await store.put("page", Entry(Answer(b"{}"), generations, fresh_until=0.0), keep_seconds=1)
    await store.bump(["content:a"])
    await store.bump([f"content:{n}" for n in range(10)])  # content:a is forgotten

    current, entry = await store.lookup("page", ["content:a"])
    assert entry is not None
    assert not entry.is_current(current)


async def test_an_entry_stays_current_until_a_write_touches_its_scope() -> None:
    store = MemoryStore(max_entries=10)
    generations, _ = await store.lookup("page", ["catalog", "content:a"])
    await store.put("page", Entry(Answer(b"{}"), generations, fresh_until=0.0), keep_seconds=1)
    await store.bump(["content:b"])
    current, entry = await store.lookup("page", ["catalog", "content:a"])
    assert entry is not None
    assert entry.is_current(current)

    await store.bump(["catalog"])
    current, entry = await store.lookup("page", ["catalog", "content:a"])
    assert entry is not None
    assert not entry.is_current(current)


async def test_reads_are_answered_uncached_when_redis_is_unreachable(
    settings: Settings, database: Database, session: AsyncSession
) -> None:
    content = await make_content(session, await make_creator(session), title="Still here")
    await session.commit()
    unreachable = settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"})
    async with own_runtime(unreachable, cache_enabled=True) as runtime:
        assert runtime.cache is not None
        async with served(create_app(runtime.settings, runtime=runtime)) as client:
            response = await client.get(f"/api/v1/content/{content.id}")
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Still here"
