"""Backlogs of the content jobs: scheduled drafts to release, views buffered in Redis,
trending scores to refresh."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

from redis.asyncio import Redis
from sqlalchemy import insert, text, update

from dreamlust.content import trending
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.models import Content
from dreamlust.models.enums import ContentStatus, ContentType
from dreamlust.views.buffer import BufferedView, ViewBuffer
from tests.fixtures.factories import make_content, make_creator
from tests.fixtures.redis import TEST_REDIS_URL, connect_redis
from tests.fixtures.worker_process import statement_running
from tests.worker_faults.scene import Scene


@dataclass
class ScheduledDrafts:
    """Drafts of several creators whose scheduled time has come: released in one
    transaction, so a kill anywhere in it must leave every one a draft."""

    creators: int = 10
    per_creator: int = 50
    variables: dict[str, str] = field(default_factory=dict)
    scheduled: dict[uuid.UUID, datetime] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.creators * self.per_creator

    async def prepare(self, scene: Scene) -> None:
        at = utcnow() - timedelta(minutes=5)
        async with scene.session() as session:
            rows = []
            for _ in range(self.creators):
                creator = await make_creator(session)
                for number in range(self.per_creator):
                    item_id = new_id()
                    self.scheduled[item_id] = at - timedelta(seconds=number)
                    rows.append(
                        {
                            "id": item_id,
                            "creator_id": creator.id,
                            "title": f"Scheduled {number}",
                            "type": ContentType.VIDEO,
                            "status": ContentStatus.DRAFT,
                            "scheduled_at": self.scheduled[item_id],
                        }
                    )
            await session.execute(insert(Content), rows)
            await session.commit()

    async def at_work(self, scene: Scene) -> bool:
        return await statement_running(scene.database, "%INSERT INTO notification_events%")

    async def assert_unfinished(self, scene: Scene) -> None:
        drafts = await scene.count(
            "SELECT count(*) FROM content WHERE status = 'DRAFT' AND scheduled_at IS NOT NULL"
        )
        assert drafts == self.total

    async def before_rerun(self, scene: Scene) -> None:
        return None

    async def assert_finished(self, scene: Scene) -> None:
        published = await scene.rows(
            "SELECT id, published_at, version FROM content WHERE status = 'PUBLISHED'"
        )
        assert {row.id: row.published_at for row in published} == self.scheduled
        assert {row.version for row in published} == {2}
        counts = await scene.rows("SELECT content_count FROM creators")
        assert [row.content_count for row in counts] == [self.per_creator] * self.creators
        events = await scene.rows(
            "SELECT link, count(*) AS times FROM notification_events "
            "WHERE type = 'NEW_UPLOAD' GROUP BY link"
        )
        assert {row.link for row in events} == {f"/content/{item}" for item in self.scheduled}
        assert {row.times for row in events} == {1}


# Views buffered at once (each one a Redis connection of the client's pool).
_AT_ONCE = 100


@dataclass
class BufferedViews:
    """Views of distinct viewers buffered in Redis, stored by the flush in chunks of
    2,000, one transaction each."""

    items: int = 10
    per_item: int = 800
    variables: dict[str, str] = field(default_factory=dict)
    buffer: ViewBuffer | None = None

    @property
    def total(self) -> int:
        return self.items * self.per_item

    async def prepare(self, scene: Scene) -> None:
        redis = await connect_redis()
        scene.cleanups.push_async_callback(redis.aclose)
        prefix = f"dreamlust-test:views:{uuid.uuid4().hex}"
        scene.cleanups.push_async_callback(_forget_keys, redis, prefix)
        self.buffer = ViewBuffer(redis, prefix)
        self.variables = {
            "REDIS_URL": TEST_REDIS_URL,
            "DREAMLUST_VIEW_BUFFER_PREFIX": prefix,
        }
        async with scene.session() as session:
            creator = await make_creator(session)
            items = [await make_content(session, creator) for _ in range(self.items)]
            await session.commit()
        for item in items:
            for first in range(0, self.per_item, _AT_ONCE):
                viewers = range(first, min(first + _AT_ONCE, self.per_item))
                await asyncio.gather(*(self._record(item.id, viewer) for viewer in viewers))

    async def _record(self, content_id: uuid.UUID, viewer: int) -> None:
        assert self.buffer is not None
        view = BufferedView(
            id=new_id(),
            content_id=content_id,
            user_id=None,
            viewer_hash=f"{viewer:064x}",
            user_agent=None,
            watch_duration=viewer % 600,
            created_at=utcnow(),
        )
        assert await self.buffer.record(view, 600)

    async def at_work(self, scene: Scene) -> bool:
        return 0 < await scene.count("SELECT count(*) FROM views") < self.total

    async def assert_unfinished(self, scene: Scene) -> None:
        assert await scene.count("SELECT count(*) FROM views") < self.total

    async def before_rerun(self, scene: Scene) -> None:
        return None

    async def assert_finished(self, scene: Scene) -> None:
        assert self.buffer is not None
        assert await scene.count("SELECT count(*) FROM views") == self.total
        assert await scene.count("SELECT count(DISTINCT id) FROM views") == self.total
        counted = await scene.rows("SELECT view_count FROM content")
        assert [row.view_count for row in counted] == [self.per_item] * self.items
        assert await scene.count("SELECT total_views FROM creators") == self.total
        assert await self.buffer.backlog() == 0


async def _forget_keys(redis: Redis, prefix: str) -> None:
    async for key in redis.scan_iter(match=f"{prefix}:*", count=1_000):
        await redis.delete(key)


@dataclass
class StaleTrending:
    """Scores left stale on every item, and recent views that the refresh turns into new
    scores, in one transaction of set-based statements over the views."""

    items: int = 200
    variables: dict[str, str] = field(default_factory=dict)
    viewed_at: datetime = field(default_factory=utcnow)

    async def prepare(self, scene: Scene) -> None:
        async with scene.session() as session:
            creator = await make_creator(session)
            await session.execute(
                insert(Content),
                [
                    {
                        "creator_id": creator.id,
                        "title": f"Trending {number}",
                        "type": ContentType.VIDEO,
                        "status": ContentStatus.PUBLISHED,
                        "published_at": self.viewed_at - timedelta(days=1),
                    }
                    for number in range(self.items)
                ],
            )
            await session.execute(
                update(Content).values(trending_24h=999.0, trending_7d=999.0, trending_30d=999.0)
            )
            await session.commit()
        # Item n has 200 + 50 * (n % 5) views, a minute apart, the last one at `viewed_at`,
        # but the first item has none.
        async with scene.session() as session:
            await session.execute(
                _VIEWS_SQL, {"at": self.viewed_at, "first": await _first_item(scene)}
            )
            await session.commit()

    async def at_work(self, scene: Scene) -> bool:
        return await statement_running(scene.database, "UPDATE content SET trending_%")

    async def assert_unfinished(self, scene: Scene) -> None:
        stale = await scene.count(
            "SELECT count(*) FROM content WHERE trending_24h = 999 AND trending_7d = 999 "
            "AND trending_30d = 999"
        )
        assert stale == self.items

    async def before_rerun(self, scene: Scene) -> None:
        return None

    async def assert_finished(self, scene: Scene) -> None:
        assert scene.rerun_from is not None
        assert scene.rerun_to is not None
        views = Counter(
            {
                row.content_id: row.views
                for row in await scene.rows(
                    "SELECT content_id, count(*) AS views FROM views GROUP BY content_id"
                )
            }
        )
        scores = await scene.rows("SELECT id, trending_24h, trending_7d, trending_30d FROM content")
        assert len(scores) == self.items
        for row in scores:
            for window in trending.Window:
                stored = getattr(row, window.column_name)
                # The scores fade as time passes: the refresh ran between these moments.
                highest = _score(views[row.id], self.viewed_at, scene.rerun_from, window)
                lowest = _score(views[row.id], self.viewed_at, scene.rerun_to, window)
                assert lowest - 1e-6 <= stored <= highest + 1e-6, (row.id, window, stored)
        assert views[await _first_item(scene)] == 0


_VIEWS_SQL = text(
    "INSERT INTO views (id, content_id, viewer_hash, created_at) "
    "SELECT gen_random_uuid(), item.id, 'viewer-' || minute, "
    "CAST(:at AS timestamptz) - minute * interval '1 minute' "
    "FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM content WHERE id <> :first) "
    "AS item, generate_series(0, 199 + 50 * (item.n % 5)) AS minute"
)


async def _first_item(scene: Scene) -> uuid.UUID:
    [row] = await scene.rows("SELECT id FROM content ORDER BY id LIMIT 1")
    return uuid.UUID(str(row.id))


@cache
def _score(views: int, last: datetime, now: datetime, window: trending.Window) -> float:
    moments = [last - timedelta(minutes=minute) for minute in range(views)]
    return trending.score(moments, [], now, window)


@dataclass
class OldViewMarks:
    """View marks past the dedup window, deleted in one statement: a kill before its
    commit must leave every one; the marks still in the window stay."""

    old: int = 200_000
    kept: int = 100
    variables: dict[str, str] = field(default_factory=dict)

    async def prepare(self, scene: Scene) -> None:
        now = utcnow()
        async with scene.session() as session:
            content = await make_content(session, await make_creator(session))
            for prefix, count, counted_at in (
                ("old", self.old, now - timedelta(days=1)),
                ("kept", self.kept, now),
            ):
                await session.execute(
                    _MARKS_SQL,
                    {"content": content.id, "prefix": prefix, "count": count, "at": counted_at},
                )
            await session.commit()

    async def _old(self, scene: Scene) -> int:
        return await scene.count("SELECT count(*) FROM view_marks WHERE viewer_hash LIKE 'old-%'")

    async def at_work(self, scene: Scene) -> bool:
        return await statement_running(scene.database, "DELETE FROM view_marks%")

    async def assert_unfinished(self, scene: Scene) -> None:
        assert await self._old(scene) == self.old

    async def before_rerun(self, scene: Scene) -> None:
        return None

    async def assert_finished(self, scene: Scene) -> None:
        assert await self._old(scene) == 0
        kept = await scene.count("SELECT count(*) FROM view_marks WHERE viewer_hash LIKE 'kept-%'")
        assert kept == self.kept


_MARKS_SQL = text(
    "INSERT INTO view_marks (content_id, viewer_hash, counted_at) "
    "SELECT :content, :prefix || '-' || n, :at FROM generate_series(1, :count) AS n"
)
