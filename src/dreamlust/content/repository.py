"""Every query on content."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, bindparam, select, update
from sqlalchemy.orm import joinedload, selectinload

from dreamlust.content.cards import select_cards
from dreamlust.content.trending import Window
from dreamlust.content.visibility import (
    AT_EXECUTION,
    VIEWER_ID,
    Viewer,
    listed,
    owned_by,
    viewable,
    viewable_to_bound_viewer,
)
from dreamlust.kit.compiled_once import Record, fetch_rows
from dreamlust.kit.pagination import KeysetPage, Ordering, PageRequest, Paginator, SortKey
from dreamlust.kit.repository import Repository
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import (
    Category,
    Content,
    Tag,
    content_categories,
    content_tags,
)
from dreamlust.models.enums import ContentStatus, ContentType
from dreamlust.users.preferences import NsfwPolicy

TRENDING = {
    window: Ordering(
        scope=f"content:trending:{window.value}",
        keys=(SortKey(window.column), SortKey(Content.id)),
    )
    for window in Window
}
LATEST = Ordering(
    scope="content:latest",
    keys=(SortKey(Content.published_at), SortKey(Content.id)),
)
POPULAR = Ordering(
    scope="content:popular",
    keys=(SortKey(Content.view_count), SortKey(Content.id)),
)
NEWEST_CREATED = Ordering(
    scope="content:created",
    keys=(SortKey(Content.created_at), SortKey(Content.id)),
)

# What the API shows with each item: creator, categories, tags — three statements.
READ_OPTIONS = (
    joinedload(Content.creator),
    selectinload(Content.categories),
    selectinload(Content.tags),
)


@dataclass(frozen=True)
class FilterShape:
    """Which filters a listing applies, and so which statement it runs: the filters'
    values are bind parameters, except `vr`, which changes the SQL itself."""

    by_type: bool = False
    vr: bool | None = None
    by_category: bool = False
    by_tag: bool = False
    by_creator: bool = False


@dataclass(frozen=True)
class ContentFilter:
    type: ContentType | None = None
    vr: bool | None = None
    category: str | None = None
    tag: str | None = None
    creator_id: uuid.UUID | None = None

    @property
    def shape(self) -> FilterShape:
        return FilterShape(
            by_type=self.type is not None,
            vr=self.vr,
            by_category=self.category is not None,
            by_tag=self.tag is not None,
            by_creator=self.creator_id is not None,
        )

    @property
    def params(self) -> dict[str, Any]:
        values = {
            "type": self.type,
            "category": self.category,
            "tag": self.tag,
            "creator_id": self.creator_id,
        }
        return {name: value for name, value in values.items() if value is not None}


@dataclass(frozen=True)
class CardQuery:
    """A card statement and the values of its bind parameters. `built_once`: the statement
    is one of those built once per shape and run with each request's parameters (see
    `kit.compiled_once`), not one built for this request."""

    statement: Select[Any]
    params: dict[str, Any] = field(default_factory=dict)
    built_once: bool = False


class ContentRepository(Repository[Content]):
    model = Content

    async def viewable_by_id(
        self, content_id: uuid.UUID, viewer: Viewer, now: datetime
    ) -> Content | None:
        return await self.one_or_none(
            self.select()
            .where(Content.id == content_id, viewable(viewer, now))
            .options(*READ_OPTIONS)
        )

    async def owned_by_id(
        self, content_id: uuid.UUID, viewer: Viewer, *, include_deleted: bool = False
    ) -> Content | None:
        """The item if this viewer may change it: its creator, or staff."""
        stmt = self.select().where(Content.id == content_id).options(*READ_OPTIONS)
        if not viewer.is_staff:
            stmt = stmt.where(owned_by(viewer))
        if include_deleted:
            stmt = stmt.execution_options(**{INCLUDE_DELETED: True})
        return await self.one_or_none(stmt)

    @property
    def dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def card_page(
        self, query: CardQuery, ordering: Ordering, request: PageRequest, paginator: Paginator
    ) -> KeysetPage[Record]:
        return paginator.page(await self._card_rows(query), ordering, request)

    async def card_by_id(self, content_id: uuid.UUID, viewer: Viewer) -> Record | None:
        """The item's card, if this viewer may open it."""
        # A signed-in viewer's own items too: their id is bound with the item's.
        owner = viewer.user_id is not None and not viewer.is_staff
        stmt = _card_by_id(self.dialect, viewer.is_staff, owner, *_shape(viewer))
        params = {_CONTENT_ID.key: content_id, VIEWER_ID.key: viewer.user_id}
        rows = await self._card_rows(CardQuery(stmt, params, built_once=True))
        return rows[0] if rows else None

    async def _card_rows(self, query: CardQuery) -> Sequence[Record]:
        """Card statements state every condition themselves (soft delete included)."""
        return await fetch_rows(
            self.session, query.statement, query.params, built_once=query.built_once
        )

    async def listing(
        self,
        viewer: Viewer,
        filters: ContentFilter,
        ordering: Ordering,
        request: PageRequest,
        paginator: Paginator,
        *,
        everything: bool = False,
    ) -> KeysetPage[Record]:
        """A page of cards of what discovery shows this viewer, filtered; with
        `everything`, all (not deleted) content, for its owner and staff."""
        query = self.listing_query(
            viewer, filters, ordering, request, paginator, everything=everything
        )
        return await self.card_page(query, ordering, request, paginator)

    def listing_query(
        self,
        viewer: Viewer,
        filters: ContentFilter,
        ordering: Ordering,
        request: PageRequest,
        paginator: Paginator,
        *,
        everything: bool = False,
    ) -> CardQuery:
        """The statement of `listing` and its parameters."""
        visibility = None if everything else _shape(viewer)
        statement = _listing(
            self.dialect, visibility, filters.shape, ordering.scope, bool(request.cursor)
        )
        params = filters.params | paginator.bound_params(ordering, request)
        return CardQuery(statement, params, built_once=True)

    def viewable_cards(self, viewer: Viewer) -> Select[Any]:
        """Cards of what this viewer may open (listed, their own, anything for staff): the
        base of the lists a user keeps (likes, history, playlists), which join their own
        table for its order."""
        return select_cards(self.dialect).where(viewable(viewer, AT_EXECUTION))

    async def card_list(
        self, statement: Select[Any], ordering: Ordering, request: PageRequest, paginator: Paginator
    ) -> KeysetPage[Record]:
        """A page of a card statement in `ordering`: one statement, whatever the page."""
        query = self.card_list_query(statement, ordering, request, paginator)
        return await self.card_page(query, ordering, request, paginator)

    @staticmethod
    def card_list_query(
        statement: Select[Any], ordering: Ordering, request: PageRequest, paginator: Paginator
    ) -> CardQuery:
        """The statement of `card_list`."""
        return CardQuery(paginator.apply(_with_sort_keys(statement, ordering), ordering, request))

    async def written_card(self, content_id: uuid.UUID) -> Record | None:
        """The card of an item just written, for its writer (its creator or staff, who
        may see it whatever its state), once the session's changes are sent; None when
        its creator is gone."""
        await self.session.flush()
        stmt = _written_card(self.dialect)
        query = CardQuery(stmt, {_CONTENT_ID.key: content_id}, built_once=True)
        rows = await self._card_rows(query)
        return rows[0] if rows else None

    async def release_due(
        self, now: datetime, status: ContentStatus
    ) -> list[Row[uuid.UUID, uuid.UUID, str]]:
        """Move every scheduled draft whose time has come to `status` (published, or
        pending review), each exactly once even when several workers run this together.
        Returns (id, creator_id, title) of each item moved."""
        published = status is ContentStatus.PUBLISHED
        result = await self.session.execute(
            update(Content)
            .where(
                Content.status == ContentStatus.DRAFT,
                Content.scheduled_at.is_not(None),
                Content.scheduled_at <= now,
                Content.deleted_at.is_(None),
            )
            .values(
                status=status,
                published_at=Content.scheduled_at if published else None,
                scheduled_at=None,
                version=Content.version + 1,
                updated_at=now,
            )
            .returning(Content.id, Content.creator_id, Content.title)
            .execution_options(synchronize_session=False)
        )
        return list(result.all())


# Card statements are built once per dialect, kind of viewer, filters set, ordering and
# page (first or next), with every value a bind parameter; each request only binds its
# values. Building the SQL expression, and computing its cache key, would otherwise cost
# a request more than the database does.

ORDERINGS = {ordering.scope: ordering for ordering in (LATEST, POPULAR, NEWEST_CREATED)} | {
    ordering.scope: ordering for ordering in TRENDING.values()
}
_CONTENT_ID = bindparam("content_id", type_=Content.id.type)
Visibility = tuple[NsfwPolicy, bool] | None


def _shape(viewer: Viewer) -> tuple[NsfwPolicy, bool]:
    """What of a viewer decides what discovery shows them."""
    return viewer.nsfw_policy, viewer.is_adult


@functools.cache
def _listed_cards(dialect: str, nsfw_policy: NsfwPolicy, is_adult: bool) -> Select[Any]:
    shape = Viewer(is_adult=is_adult, nsfw_policy=nsfw_policy)
    return select_cards(dialect).where(listed(shape, AT_EXECUTION))


@functools.cache
def _card_by_id(
    dialect: str, staff: bool, owner: bool, nsfw_policy: NsfwPolicy, is_adult: bool
) -> Select[Any]:
    if owner:
        shape = Viewer(is_adult=is_adult, nsfw_policy=nsfw_policy)
        may_open = viewable_to_bound_viewer(shape, AT_EXECUTION)
        return select_cards(dialect).where(may_open, Content.id == _CONTENT_ID)
    cards = select_cards(dialect) if staff else _listed_cards(dialect, nsfw_policy, is_adult)
    return cards.where(Content.id == _CONTENT_ID)


@functools.cache
def _written_card(dialect: str) -> Select[Any]:
    return select_cards(dialect).where(Content.id == _CONTENT_ID)


@functools.cache
def _listing(
    dialect: str, visibility: Visibility, shape: FilterShape, scope: str, after: bool
) -> Select[Any]:
    ordering = ORDERINGS[scope]
    cards = select_cards(dialect) if visibility is None else _listed_cards(dialect, *visibility)
    stmt = _with_sort_keys(_filtered(cards, shape), ordering)
    return Paginator.apply_bound(stmt, ordering, after=after)


def _with_sort_keys(stmt: Select[Any], ordering: Ordering) -> Select[Any]:
    """A sort key a card does not show (a trending score) is selected beside it, for the
    next page's cursor."""
    shown = set(stmt.selected_columns.keys())
    return stmt.add_columns(*(key.column for key in ordering.keys if key.name not in shown))


def _filtered(stmt: Select[Any], shape: FilterShape) -> Select[Any]:
    if shape.by_type:
        stmt = stmt.where(Content.type == bindparam("type", type_=Content.type.type))
    if shape.vr is not None:
        is_vr = Content.type == ContentType.VR
        stmt = stmt.where(is_vr if shape.vr else ~is_vr)
    if shape.by_creator:
        stmt = stmt.where(
            Content.creator_id == bindparam("creator_id", type_=Content.creator_id.type)
        )
    if shape.by_category:
        stmt = stmt.where(
            Content.id.in_(
                select(content_categories.c.content_id)
                .join(Category, Category.id == content_categories.c.category_id)
                .where(Category.slug == bindparam("category"), Category.deleted_at.is_(None))
            )
        )
    if shape.by_tag:
        stmt = stmt.where(
            Content.id.in_(
                select(content_tags.c.content_id)
                .join(Tag, Tag.id == content_tags.c.tag_id)
                .where(Tag.name == bindparam("tag"))
            )
        )
    return stmt
