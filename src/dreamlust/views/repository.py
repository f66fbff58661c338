"""Every query on views: recording them, counting them, and a user's watch history.

Counters move by `col = col + n`, by exactly the number of view rows that were really
inserted, so `content.view_count` stays the number of the item's view rows and
`creators.total_views` that of all the creator's items (deleted ones included).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    Subquery,
    Update,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.repository import ContentRepository
from dreamlust.content.visibility import (
    VIEWER_ID,
    Viewer,
    listed,
    viewable,
    viewable_to_bound_viewer,
)
from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.repository import run_as_written
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.kit.upsert import insert_or_ignore
from dreamlust.models import Content, Creator, User, View
from dreamlust.users.preferences import NsfwPolicy


class ViewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def viewable_creator(
        self, content_id: uuid.UUID, viewer: Viewer, now: datetime, viewer_hash: str
    ) -> uuid.UUID | None:
        """The item's creator, if the viewer may open it; on PostgreSQL, with this viewer's
        lock on the item taken in the same statement.

        The lock queues concurrent requests of one viewer for one item until the
        transaction ends: without it, two identical requests could both find no recent view
        and both count. SQLite needs none: its write transactions already run one at a time.
        """
        dialect = self.session.get_bind().dialect.name
        signed_in = viewer.user_id is not None
        stmt = _viewable_creator(
            dialect, signed_in, viewer.is_staff, viewer.nsfw_policy, viewer.is_adult
        )
        params = {_CONTENT_ID.key: content_id, _NOW.key: now}
        if signed_in:
            params[VIEWER_ID.key] = viewer.user_id
        if dialect == "postgresql":
            params[_LOCK.key] = _viewer_lock(content_id, viewer_hash)
        creator_id: uuid.UUID | None = (await run_as_written(self.session, stmt, params)).scalar()
        return creator_id

    async def is_viewable(self, content_id: uuid.UUID, viewer: Viewer, now: datetime) -> bool:
        found = await self.session.scalar(
            select(Content.id).where(Content.id == content_id, viewable(viewer, now))
        )
        return found is not None

    async def is_listed(self, content_id: uuid.UUID, viewer: Viewer, now: datetime) -> bool | None:
        """Whether the item is listed for this kind of viewer (as discovery shows it);
        None when the viewer may not open it at all."""
        found = await self.session.scalar(
            select(listed(viewer, now)).where(Content.id == content_id, viewable(viewer, now))
        )
        return bool(found) if found is not None else None

    async def add_unless_seen(
        self, row: dict[str, Any], creator_id: uuid.UUID, since: datetime, now: datetime
    ) -> bool:
        """Store one view and count it on its item and the item's creator, unless its viewer
        has a view of the item since `since`; whether it was stored. The caller holds the
        viewer's lock (`viewable_creator`).

        Every view of a hot item waits for the item's and creator's rows, so they are locked
        last, just before the commit. On PostgreSQL the check and the three writes are one
        statement (its snapshot is taken after the viewer's lock was granted, so it sees the
        view of a request that held it): the creator is locked first (as likes do, so that
        the two never wait on each other in opposite orders), then the item; the view's
        foreign key check, which runs at the end of the statement, finds the item already
        locked by this transaction instead of adding one more to the item's shared lock list.
        """
        if self.session.get_bind().dialect.name != "postgresql":
            seen = {
                _VIEW_COLUMNS["content_id"].key: row["content_id"],
                _VIEW_COLUMNS["viewer_hash"].key: row["viewer_hash"],
                _SINCE.key: since,
            }
            if await self.session.scalar(_SEEN, seen) is not None:
                return False
            await self.add_counts(Counter({row["content_id"]: 1}), Counter({creator_id: 1}))
            await self.insert_new([row])
            return True
        params = {
            **{_VIEW_COLUMNS[name].key: value for name, value in row.items()},
            _CREATOR_ID.key: creator_id,
            _SINCE.key: since,
            _NOW.key: now,
        }
        counted = await run_as_written(self.session, _count_unseen_view(tuple(row)), params)
        return counted.scalar() is not None

    async def insert_new(self, rows: Sequence[dict[str, Any]]) -> list[uuid.UUID]:
        """Insert view rows, skipping ids already stored; the content id of each one inserted."""
        if not rows:
            return []
        # The rows as the statement's parameter sets, not as a VALUES clause built for
        # them: compiling a VALUES clause of thousands of rows cost the flush about 100 µs
        # of CPU per view.
        statement = insert_or_ignore(self.session, View).returning(View.content_id)
        result = await run_as_written(self.session, statement, list(rows))
        return list(result.scalars())

    async def add_counts(
        self, per_content: Counter[uuid.UUID], per_creator: Counter[uuid.UUID]
    ) -> None:
        """Add views to the items' and their creators' counters: one UPDATE for each table.

        Creators first, like the likes do, so that the two never wait on each other in
        opposite orders.
        """
        if per_creator:
            await self.session.execute(
                update(Creator)
                .where(Creator.id.in_(per_creator))
                .values(total_views=Creator.total_views + case(per_creator, value=Creator.id))
                .execution_options(synchronize_session=False)
            )
        if per_content:
            await self.session.execute(
                update(Content)
                .where(Content.id.in_(per_content))
                .values(view_count=Content.view_count + case(per_content, value=Content.id))
                .execution_options(synchronize_session=False)
            )

    async def creators_of(self, content_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        """The creator of each item that still exists (deleted or not).

        On PostgreSQL the rows stay locked against removal until the transaction ends, so
        the views inserted for them cannot lose their content in between: FOR KEY SHARE,
        which leaves their counters free. (FOR NO KEY UPDATE would lock each item before
        its creator, where a like or a view locks the creator first: a deadlock.)
        """
        rows = await self.session.execute(
            select(Content.id, Content.creator_id)
            .where(Content.id.in_(content_ids))
            .with_for_update(read=True, key_share=True)
            .execution_options(**{INCLUDE_DELETED: True})
        )
        return dict(rows.all())

    async def existing_users(self, user_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of the users that still exist, locked against removal as `creators_of`
        locks the items (FOR KEY SHARE: money requests queue on the user's row)."""
        if not user_ids:
            return set()
        found = await self.session.scalars(
            select(User.id)
            .where(User.id.in_(user_ids))
            .with_for_update(read=True, key_share=True)
            .execution_options(**{INCLUDE_DELETED: True})
        )
        return set(found)

    def latest_per_content(self, user_id: uuid.UUID) -> Subquery:
        """Each item the user watched, with the time of their latest view of it."""
        return (
            select(View.content_id, func.max(View.created_at).label("watched_at"))
            .where(View.user_id == user_id)
            .group_by(View.content_id)
            .subquery("watched")
        )

    def watched_cards(self, viewer: Viewer, latest: Subquery) -> Select[Any]:
        """Cards of the items of `latest_per_content` the viewer may still open, each with
        its sort keys beside it."""
        return (
            ContentRepository(self.session)
            .viewable_cards(viewer)
            .add_columns(latest.c.watched_at, latest.c.content_id)
            .join(latest, latest.c.content_id == Content.id)
        )

    async def detach_user(self, user_id: uuid.UUID) -> None:
        await self.session.execute(
            update(View)
            .where(View.user_id == user_id)
            .values(user_id=None)
            .execution_options(synchronize_session=False)
        )


_CONTENT_ID = bindparam("viewed_content_id", type_=Content.id.type)
_CREATOR_ID = bindparam("counted_creator_id", type_=Creator.id.type)
_NOW = bindparam("moment", type_=Content.updated_at.type)
_SINCE = bindparam("since", type_=View.created_at.type)
_LOCK = bindparam("viewer_lock", type_=BigInteger())
_VIEW_COLUMNS = {
    column.name: bindparam(f"view_{column.name}", type_=column.type)
    for column in View.__table__.columns
}


# A view of the item by the same watcher since the dedup window began.
_SEEN = (
    select(View.id)
    .where(
        View.content_id == _VIEW_COLUMNS["content_id"],
        View.viewer_hash == _VIEW_COLUMNS["viewer_hash"],
        View.created_at > _SINCE,
    )
    .limit(1)
)


def _with_viewer_lock(stmt: Select[Any], dialect: str) -> Select[Any]:
    if dialect != "postgresql":
        return stmt
    # Evaluated for the item's row only once it qualified: no lock for a 404.
    return stmt.add_columns(func.pg_advisory_xact_lock(_LOCK))


@functools.cache
def _viewable_creator(
    dialect: str, signed_in: bool, staff: bool, nsfw_policy: NsfwPolicy, is_adult: bool
) -> Select[Any]:
    """The item's creator for a viewer of this shape (a signed-in one's id bound as
    `VIEWER_ID`: their own items too), built once: recording a view is the most frequent
    write, and building its statements cost more than running them."""
    shape = Viewer(is_adult=is_adult, nsfw_policy=nsfw_policy, is_staff=staff)
    may_open = viewable_to_bound_viewer(shape, _NOW) if signed_in else viewable(shape, _NOW)
    visible = select(Content.creator_id).where(
        Content.id == _CONTENT_ID, Content.deleted_at.is_(None), may_open
    )
    return _with_viewer_lock(visible, dialect)


@functools.cache
def _count_unseen_view(columns: tuple[str, ...]) -> Update:
    """PostgreSQL's one statement of `add_unless_seen`, built once for the row's columns."""
    unseen = ~_SEEN.exists()
    creator = (
        update(Creator)
        .where(Creator.id == _CREATOR_ID, unseen)
        .values(total_views=Creator.total_views + 1, updated_at=_NOW)
        .returning(Creator.id)
        .cte("counted_creator")
    )
    values = select(*(_VIEW_COLUMNS[name] for name in columns))
    view = (
        insert(View)
        .from_select(list(columns), values.where(unseen))
        .returning(View.id)
        .cte("inserted_view")
    )
    return (
        update(Content)
        .where(Content.id == _VIEW_COLUMNS["content_id"], select(creator.c.id).exists())
        .values(view_count=Content.view_count + 1, updated_at=_NOW)
        .returning(Content.id)
        .add_cte(creator, view)
        .execution_options(synchronize_session=False)
    )


def _viewer_lock(content_id: uuid.UUID, viewer_hash: str) -> int:
    """The advisory lock key of one viewer on one item."""
    digest = hashlib.blake2b(
        content_id.bytes + viewer_hash.encode(), digest_size=8, usedforsecurity=False
    ).digest()
    return int.from_bytes(digest, "big", signed=True)


def newest_watched_first(latest: Subquery) -> Ordering:
    return Ordering(
        scope="history:newest",
        keys=(SortKey(latest.c.watched_at), SortKey(latest.c.content_id)),
    )
