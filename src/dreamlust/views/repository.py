"""Every query on views: recording them, counting them, and a user's watch history.

Counters move by `col = col + n`, by exactly the number of view rows that were really
inserted, so `content.view_count` stays the number of the item's view rows and
`creators.total_views` that of all the creator's items (deleted ones included).
"""

from __future__ import annotations

import functools
import uuid
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    Subquery,
    bindparam,
    case,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.repository import ContentRepository
from dreamlust.content.visibility import (
    VIEWER_ID,
    Viewer,
    listed,
    viewable,
    viewable_to_bound_viewer,
)
from dreamlust.kit.compiled_once import fetch_rows
from dreamlust.kit.keyed_locks import KeyedLocks
from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.repository import run_as_written
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.kit.upsert import insert_or_ignore
from dreamlust.models import Content, Creator, User, View, ViewMark
from dreamlust.users.preferences import NsfwPolicy


class ViewRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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

    async def count_unless_seen(
        self,
        row: dict[str, Any],
        viewer: Viewer,
        since: datetime,
        now: datetime,
        turns: KeyedLocks,
    ) -> bool | None:
        """Store one view (`row`) and count it on its item and the item's creator, unless
        its viewer's view of the item was counted after `since`; whether it was. None when
        the viewer may not open the item.

        The viewer's mark (`ViewMark`) decides: it is set, or moved when older than
        `since`, by one upsert, and only a request that moved it counts. Two identical
        requests at once meet on the mark's key: the second waits for the first, then
        finds its mark recent, and counts nothing.

        On PostgreSQL all of it is one statement, run on its own (in autocommit: see the
        views router), so the hot item's and creator's rows are locked only while it runs.
        Each step waits for the one before: the mark, the view row, then the counters,
        locked last so that every view of the item holds them the least: the creator
        first (as likes do, so that the two never wait on each other in opposite orders),
        then the item. The foreign key checks of the mark and the view, which run at the
        end of the statement, find the item already locked by it.
        There the statement is sent in its turn among the item's views in this process
        (`turns`, by item: see `service.record_view`).

        SQLite runs its write transactions one at a time: there it is four statements, in
        the request's transaction, without waiting for a turn (the transaction may hold
        the write lock already, which the view holding the turn waits for).
        """
        shape = _Shape.of(viewer)
        params = {
            **{_VIEW_COLUMNS[name].key: value for name, value in row.items()},
            _SINCE.key: since,
            _NOW.key: now,
        }
        if viewer.user_id is not None:
            params[VIEWER_ID.key] = viewer.user_id
        if self.session.get_bind().dialect.name == "postgresql":
            statement = _record_view(shape, tuple(row))
            async with turns[row["content_id"]]:
                [outcome] = await fetch_rows(self.session, statement, params, built_once=True)
            return None if outcome.creator_id is None else bool(outcome.counted)
        creator_id = (await run_as_written(self.session, _visible_creator(shape), params)).scalar()
        if creator_id is None:
            return None
        marked = await run_as_written(self.session, _SQLITE_MOVED_MARK, params)
        if marked.scalar() is None:
            return False
        await self.add_counts(Counter({row["content_id"]: 1}), Counter({creator_id: 1}))
        await self.insert_new([row])
        return True

    async def forget_marks(self, before: datetime) -> int:
        """Delete the view marks counted before `before` (past every dedup window); how many."""
        result = await self.session.execute(
            delete(ViewMark)
            .where(ViewMark.counted_at < before)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

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


_NOW = bindparam("moment", type_=Content.updated_at.type)
_SINCE = bindparam("since", type_=View.created_at.type)
_VIEW_COLUMNS = {
    column.name: bindparam(f"view_{column.name}", type_=column.type)
    for column in View.__table__.columns
}
_CONTENT_ID = _VIEW_COLUMNS["content_id"]


@dataclass(frozen=True)
class _Shape:
    """What the item's visibility depends on, of a viewer (a signed-in one's id is bound
    as `VIEWER_ID`: their own items too)."""

    signed_in: bool
    staff: bool
    nsfw_policy: NsfwPolicy
    is_adult: bool

    @classmethod
    def of(cls, viewer: Viewer) -> _Shape:
        return cls(viewer.user_id is not None, viewer.is_staff, viewer.nsfw_policy, viewer.is_adult)


@functools.cache
def _visible_creator(shape: _Shape) -> Select[Any]:
    """The item's creator when a viewer of this shape may open it, built once per shape:
    recording a view is the most frequent write, and building its statements cost more
    than running them."""
    viewer = Viewer(is_adult=shape.is_adult, nsfw_policy=shape.nsfw_policy, is_staff=shape.staff)
    may_open = viewable_to_bound_viewer(viewer, _NOW) if shape.signed_in else viewable(viewer, _NOW)
    return select(Content.creator_id).where(
        Content.id == _CONTENT_ID, Content.deleted_at.is_(None), may_open
    )


def _moved_mark(insert_mark: Any) -> Any:
    """`insert_mark` (of the viewer's mark on the item, set to now) made to move an existing
    mark only when it was counted before `_SINCE`: it returns a row only when it inserted
    or moved the mark."""
    return insert_mark.on_conflict_do_update(
        index_elements=[ViewMark.content_id, ViewMark.viewer_hash],
        set_={"counted_at": insert_mark.excluded.counted_at},
        where=ViewMark.counted_at <= _SINCE,
    ).returning(ViewMark.content_id)


_MARK_COLUMNS = ["content_id", "viewer_hash", "counted_at"]
_MARK_VALUES = (_CONTENT_ID, _VIEW_COLUMNS["viewer_hash"], _NOW)
_SQLITE_MOVED_MARK = _moved_mark(
    sqlite.insert(ViewMark).values(dict(zip(_MARK_COLUMNS, _MARK_VALUES, strict=True)))
)


@functools.cache
def _record_view(shape: _Shape, columns: tuple[str, ...]) -> Select[Any]:
    """PostgreSQL's one statement of `count_unless_seen`, built once per viewer shape and
    row columns: the item's creator (NULL when the viewer may not open it) and whether
    the view was counted."""
    visible = _visible_creator(shape).cte("visible")
    mark = _moved_mark(
        postgresql.insert(ViewMark).from_select(
            _MARK_COLUMNS, select(*_MARK_VALUES).select_from(visible)
        )
    ).cte("moved_mark")
    view = (
        insert(View)
        .from_select(
            list(columns),
            select(*(_VIEW_COLUMNS[name] for name in columns)).where(
                select(mark.c.content_id).exists()
            ),
        )
        .returning(View.id)
        .cte("inserted_view")
    )
    creator = (
        update(Creator)
        .where(
            Creator.id == select(visible.c.creator_id).scalar_subquery(),
            select(view.c.id).exists(),
        )
        .values(total_views=Creator.total_views + 1, updated_at=_NOW)
        .returning(Creator.id)
        .cte("counted_creator")
    )
    item = (
        update(Content)
        .where(Content.id == _CONTENT_ID, select(creator.c.id).exists())
        .values(view_count=Content.view_count + 1, updated_at=_NOW)
        .returning(Content.id)
        .cte("counted_item")
    )
    return select(
        select(visible.c.creator_id).scalar_subquery().label("creator_id"),
        select(item.c.id).exists().label("counted"),
    )


def newest_watched_first(latest: Subquery) -> Ordering:
    return Ordering(
        scope="history:newest",
        keys=(SortKey(latest.c.watched_at), SortKey(latest.c.content_id)),
    )
