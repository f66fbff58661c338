"""The rules of views and watch history.

A view counts once per viewer per dedup window (`view_dedup_minutes`). Without Redis it
is stored and counted by the request itself, on PostgreSQL in one statement (see
`ViewRepository.count_unless_seen`); with Redis the request only buffers it and the
worker's flush stores and counts it (see `buffer.py`).

Watch history is the user's own view rows, one entry per item (its latest view). With
the `hide_history` preference on, history is paused: new views are still counted, and
deduplicated by the user, but stored without the user; what was recorded before stays
until cleared. Clearing detaches the user from their views, so counts and trending stay
as they were. On the Redis path a view buffered when the history is cleared (at most
`view_flush_seconds` old) still joins the history when it is flushed.

Recording a view stays behind the general write limit (`write_limits.py`): deduplication
tells anonymous viewers apart by address and user agent, and the user agent is the
client's to choose, so the per-address limit is what bounds the views one client can add.
The route counts the limit itself, before it reads or records anything of the item: in
the buffer's script call when views are buffered and the item's listing is kept in Redis
(so a hot item's view costs one round trip in all), in a call of its own otherwise.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.content.repository import ContentRepository
from dreamlust.content.visibility import Viewer
from dreamlust.errors import NotFound, ServiceUnavailable
from dreamlust.kit.compiled_once import Record
from dreamlust.kit.ids import new_id
from dreamlust.kit.keyed_locks import KeyedLocks
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.kit.rate_limit import GeneralHits
from dreamlust.models import User
from dreamlust.runtime import Runtime
from dreamlust.views.buffer import BufferedView, Unknown, ViewBuffer
from dreamlust.views.identity import Watcher
from dreamlust.views.repository import ViewRepository, newest_watched_first

# Views stored per transaction by the flush: bounded work and statement size
# (7 parameters per view, well below either database's limit).
FLUSH_CHUNK = 2_000


def buffer_of(runtime: Runtime) -> ViewBuffer | None:
    """The Redis buffer of views, or None when views go straight to the database."""
    if runtime.redis is None:
        return None
    generation_keys = runtime.cache.generation_keys if runtime.cache is not None else None
    return ViewBuffer(runtime.redis, runtime.settings.view_buffer_prefix, generation_keys)


async def record_view(
    session: AsyncSession,
    settings: Settings,
    to: ViewBuffer | KeyedLocks,
    content_id: uuid.UUID,
    viewer: Viewer,
    watcher: Watcher,
    duration: int | None,
    now: datetime,
    hits: GeneralHits | None,
) -> bool:
    """Count a view of the item unless this watcher was counted within the window; whether
    it was counted. 404 when the viewer may not open the item. The write's `hits` of the
    general limits are counted first (429 over the limit).

    The view goes `to` the Redis buffer, or straight to the database, where on PostgreSQL
    the views of one item take turns in this process (`KeyedLocks`, by item; SQLite runs
    one write transaction at a time anyway, and a view there may hold the write lock
    before it would take its turn). Each view updates the item's and its creator's
    counters, so views of a hot item all queue on those two rows.
    Queued in PostgreSQL, each waiting view holds a pooled connection and costs the
    server a lock wait, a wake-up and a second look at the row it waited for; on the
    bench's hot item that queue took as much CPU as the views themselves, and halved how
    many were recorded (bench/README.md). Taking turns here, at most one view of an item
    per process waits in PostgreSQL, the others wait for their turn at no cost and
    without a connection. What deduplicates and counts a view is still the database's
    statement, whichever process sends it."""
    view = BufferedView(
        id=new_id(),
        content_id=content_id,
        user_id=watcher.user_id,
        viewer_hash=watcher.viewer_hash,
        user_agent=watcher.user_agent,
        watch_duration=duration,
        created_at=now,
    )
    window = timedelta(minutes=settings.view_dedup_minutes)
    views = ViewRepository(session)
    if isinstance(to, ViewBuffer):
        try:
            return await _buffer(views, to, view, viewer, int(window.total_seconds()), hits)
        except RedisError as exc:
            raise ServiceUnavailable(
                "Views cannot be recorded right now; try again shortly.", retry_after=5
            ) from exc
    if hits is not None:
        await hits.count()
    counted = await views.count_unless_seen(
        view.row(user_exists=True), viewer, now - window, now, to
    )
    if counted is None:
        raise NotFound("No such content.")
    return counted


async def _buffer(
    views: ViewRepository,
    buffer: ViewBuffer,
    view: BufferedView,
    viewer: Viewer,
    window: int,
    hits: GeneralHits | None,
) -> bool:
    """Buffer the view of an item the viewer may open: a hot item's listing is kept in
    Redis, and then the view costs one script call, which counts the `hits` as well, and
    no SQL (see `buffer.py`)."""
    listing = buffer.listing(view.content_id, viewer)
    if listing is None:
        if hits is not None:
            await hits.count()
        if not await views.is_viewable(view.content_id, viewer, view.created_at):
            raise NotFound("No such content.")
        return await buffer.record(view, window)
    outcome = await buffer.record_if_listed(view, window, listing, hits)
    if not isinstance(outcome, Unknown):
        return outcome
    listed = await views.is_listed(view.content_id, viewer, view.created_at)
    if listed is None:
        raise NotFound("No such content.")
    if listed:
        return await buffer.record_listed(view, window, listing, outcome)
    return await buffer.record(view, window)


async def flush_buffered(runtime: Runtime, *, chunk_size: int = FLUSH_CHUNK) -> int:
    """Store and count the views buffered in Redis; how many were new to the database.

    Each chunk is one transaction. A flush that dies anywhere leaves its batch in place and
    the next one stores it again from the start: views already stored are skipped by id,
    so none is lost and none is counted twice.
    """
    buffer = buffer_of(runtime)
    if buffer is None:
        return 0
    batch = await buffer.claim_batch()
    if batch is None:
        return 0
    stored = 0
    start = 0
    while views := await buffer.read(start, chunk_size):
        async with runtime.database.transaction() as session:
            stored += await _store(session, views)
        start += len(views)
    await buffer.finish_batch(batch)
    return stored


async def _store(session: AsyncSession, views: Sequence[BufferedView]) -> int:
    """Insert the views not stored yet and count exactly those; how many that was.

    Views of items removed since are dropped (their rows would have gone with the item).
    """
    repository = ViewRepository(session)
    creators = await repository.creators_of({view.content_id for view in views})
    users = await repository.existing_users({view.user_id for view in views if view.user_id})
    rows = [
        view.row(user_exists=view.user_id in users) for view in views if view.content_id in creators
    ]
    inserted = await repository.insert_new(rows)
    await repository.add_counts(
        Counter(inserted), Counter(creators[content_id] for content_id in inserted)
    )
    return len(inserted)


async def history(
    session: AsyncSession, viewer: Viewer, page: PageRequest, paginator: Paginator
) -> KeysetPage[Record]:
    """Cards of what the viewer watched and may still open, one per item, each with when
    it was last watched (`watched_at`), latest watched first."""
    assert viewer.user_id is not None
    views = ViewRepository(session)
    latest = views.latest_per_content(viewer.user_id)
    stmt = views.watched_cards(viewer, latest)
    ordering = newest_watched_first(latest)
    return await ContentRepository(session).card_list(stmt, ordering, page, paginator)


async def forget_marks(session: AsyncSession, window: timedelta, now: datetime) -> int:
    """The worker's job: the view marks older than the dedup `window`, which decide
    nothing any more, are deleted; how many."""
    return await ViewRepository(session).forget_marks(now - window)


async def clear_history(session: AsyncSession, user: User) -> None:
    await ViewRepository(session).detach_user(user.id)
