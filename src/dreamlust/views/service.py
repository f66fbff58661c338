"""The rules of views and watch history.

A view counts once per viewer per dedup window (`view_dedup_minutes`). Without Redis it
is stored and counted in the request's own transaction; with Redis the request only
buffers it and the worker's flush stores and counts it (see `buffer.py`).

Watch history is the user's own view rows, one entry per item (its latest view). With
the `hide_history` preference on, history is paused: new views are still counted, and
deduplicated by the user, but stored without the user; what was recorded before stays
until cleared. Clearing detaches the user from their views, so counts and trending stay
as they were. On the Redis path a view buffered when the history is cleared (at most
`view_flush_seconds` old) still joins the history when it is flushed.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.content.repository import READ_OPTIONS
from dreamlust.content.visibility import Viewer, viewable
from dreamlust.errors import NotFound, ServiceUnavailable
from dreamlust.kit.ids import new_id
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.kit.repository import Repository
from dreamlust.models import Content, User
from dreamlust.runtime import Runtime
from dreamlust.views.buffer import BufferedView, ViewBuffer
from dreamlust.views.identity import Watcher
from dreamlust.views.repository import ViewRepository, newest_watched_first

# Views stored per transaction by the flush: bounded work and statement size
# (7 parameters per view, well below either database's limit).
FLUSH_CHUNK = 2_000


def buffer_of(runtime: Runtime) -> ViewBuffer | None:
    """The Redis buffer of views, or None when views go straight to the database."""
    if runtime.redis is None:
        return None
    return ViewBuffer(runtime.redis, runtime.settings.view_buffer_prefix)


async def record_view(
    session: AsyncSession,
    settings: Settings,
    buffer: ViewBuffer | None,
    content_id: uuid.UUID,
    viewer: Viewer,
    watcher: Watcher,
    duration: int | None,
    now: datetime,
) -> bool:
    """Count a view of the item unless this watcher was counted within the window; whether
    it was counted. 404 when the viewer may not open the item."""
    views = ViewRepository(session)
    creator_id = await views.creator_of_viewable(content_id, viewer, now)
    if creator_id is None:
        raise NotFound("No such content.")
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
    if buffer is not None:
        return await _buffer(buffer, view, window)
    await views.lock_viewer(content_id, watcher.viewer_hash)
    if await views.seen_since(content_id, watcher.viewer_hash, now - window):
        return False
    await views.add_counted(view.row(user_exists=True), creator_id, now)
    return True


async def _buffer(buffer: ViewBuffer, view: BufferedView, window: timedelta) -> bool:
    try:
        return await buffer.record(view, int(window.total_seconds()))
    except RedisError as exc:
        raise ServiceUnavailable(
            "Views cannot be recorded right now; try again shortly.", retry_after=5
        ) from exc


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
    session: AsyncSession, viewer: Viewer, now: datetime, page: PageRequest, paginator: Paginator
) -> KeysetPage[tuple[Content, datetime]]:
    """What the viewer watched and may still open, one entry per item, latest watched first."""
    assert viewer.user_id is not None
    views = ViewRepository(session)
    latest = views.latest_per_content(viewer.user_id)
    stmt = views.watched(latest).where(viewable(viewer, now)).options(*READ_OPTIONS)
    rows = await Repository(session).page_rows(stmt, newest_watched_first(latest), page, paginator)
    return rows.map(lambda row: (row[0], row.watched_at))


async def clear_history(session: AsyncSession, user: User) -> None:
    await ViewRepository(session).detach_user(user.id)
