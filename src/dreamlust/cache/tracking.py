"""Which writes drop which cached answers, queued to happen once they commit.

Every ORM change to a content item (edit, publish, review, moderation hold, take-down,
release, delete, restore, its categories and tags) moves the item's scope and `lists`;
a change to a creator (profile edit, approval, suspension, verification) or to a
category moves `catalog`, which every answer is read under; a new or changed tag moves
`lists`. A session event sees them all at each flush, so no write path has to remember
the cache. Statements that change content in bulk say so with `content_changed` (the
scheduled release) or `lists_changed` (the trending scores). Counter increments
(`SET n = n + 1` statements) move nothing on purpose: counters may be as stale as the
cache's TTL.

A process lends its cache to its database's sessions (`lend_to`); a session without
one (a command that runs without the API's cache) invalidates nothing.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_session
from sqlalchemy.orm import Session, UOWTransaction

from dreamlust.cache.read_cache import ReadCache
from dreamlust.db import Database
from dreamlust.kit.after_commit import after_commit
from dreamlust.models import Category, Content, Creator, Tag

CATALOG = "catalog"
LISTS = "lists"
_CACHE = "read_cache"
_PENDING = "read_cache_scopes"


def content_scope(content_id: uuid.UUID) -> str:
    return f"content:{content_id}"


def lend_to(cache: ReadCache, database: Database) -> None:
    """The database's sessions invalidate `cache` after the writes they commit."""
    database.info[_CACHE] = cache


def content_changed(session: AsyncSession, content_ids: Iterable[uuid.UUID]) -> None:
    """Content changed by a statement the ORM does not track: drop what shows it."""
    _queue(session.sync_session, [LISTS, *map(content_scope, content_ids)])


def lists_changed(session: AsyncSession) -> None:
    """Every list may read differently (trending scores were recomputed)."""
    _queue(session.sync_session, [LISTS])


@event.listens_for(Session, "after_flush")
def _track(session: Session, _flush: UOWTransaction) -> None:
    if _CACHE not in session.info:
        return
    scopes: set[str] = set()
    changed = (obj for obj in session.dirty if session.is_modified(obj))
    for obj in chain(session.new, changed, session.deleted):
        scopes.update(_scopes_of(obj))
    if scopes:
        _queue(session, scopes)


def _scopes_of(obj: object) -> tuple[str, ...]:
    if isinstance(obj, Content):
        return (LISTS, content_scope(obj.id))
    if isinstance(obj, Creator | Category):
        return (CATALOG,)
    if isinstance(obj, Tag):
        return (LISTS,)
    return ()


def _queue(session: Session, scopes: Iterable[str]) -> None:
    cache: ReadCache | None = session.info.get(_CACHE)
    owner = async_session(session)
    if cache is None or owner is None:
        return
    pending: set[str] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = set()
        after_commit(
            owner, functools.partial(_invalidate, cache, session.info), before_response=True
        )
    pending.update(scopes)


async def _invalidate(cache: ReadCache, info: dict[str, Any]) -> None:
    scopes: set[str] = info.pop(_PENDING, set())
    if scopes:
        await cache.invalidate(scopes)
