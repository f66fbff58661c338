"""Every query on content."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select, update
from sqlalchemy.orm import joinedload, selectinload

from dreamlust.content import search
from dreamlust.content.cards import select_cards
from dreamlust.content.search import SearchQuery
from dreamlust.content.trending import Window
from dreamlust.content.visibility import AT_EXECUTION, Viewer, listed, owned_by, viewable
from dreamlust.kit.pagination import KeysetPage, Ordering, PageRequest, Paginator, SortKey
from dreamlust.kit.repository import Repository
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import (
    Category,
    Content,
    Creator,
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

# A card needs its creator (with the creator's user), categories and tags:
# one joined query plus one IN-query per collection.
CARD_OPTIONS = (
    joinedload(Content.creator).joinedload(Creator.user),
    selectinload(Content.categories),
    selectinload(Content.tags),
)
# What the API shows with each item: creator, categories, tags — three statements.
READ_OPTIONS = (
    joinedload(Content.creator),
    selectinload(Content.categories),
    selectinload(Content.tags),
)


@dataclass(frozen=True)
class ContentFilter:
    type: ContentType | None = None
    vr: bool | None = None
    category: str | None = None
    tag: str | None = None
    creator_id: uuid.UUID | None = None


class ContentRepository(Repository[Content]):
    model = Content

    def published(self, now: datetime) -> Select[Content]:
        """Published, public content whose publish time has passed."""
        return self.select().where(
            Content.status == ContentStatus.PUBLISHED,
            Content.is_public.is_(True),
            Content.published_at <= now,
        )

    def trending(self, now: datetime) -> Select[Content]:
        return self.published(now).options(*CARD_OPTIONS)

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
        self, stmt: Select[Any], ordering: Ordering, request: PageRequest, paginator: Paginator
    ) -> KeysetPage[Row[Any]]:
        """A page of cards; a sort key a card does not show (a trending score) is selected
        beside it, for the cursor."""
        shown = set(stmt.selected_columns.keys())
        missing = [key.column for key in ordering.keys if key.name not in shown]
        paged = paginator.apply(stmt.add_columns(*missing), ordering, request)
        return paginator.page(await self._card_rows(paged), ordering, request)

    async def card_by_id(self, content_id: uuid.UUID, viewer: Viewer) -> Row[Any] | None:
        """The item's card, if this viewer may open it."""
        rows = await self._card_rows(
            _viewable_cards(self.dialect, viewer).where(Content.id == content_id)
        )
        return rows[0] if rows else None

    async def _card_rows(self, stmt: Select[Any]) -> Sequence[Row[Any]]:
        """Card statements run on the session's connection as plain SQL: they state every
        condition themselves (soft delete included), and skip the ORM's execution path."""
        connection = await self.session.connection()
        rows: Sequence[Row[Any]] = (await connection.execute(stmt)).all()
        return rows

    def listing(self, viewer: Viewer, filters: ContentFilter) -> Select[Any]:
        """Cards of what discovery shows this viewer, filtered."""
        return self._filtered(_listed_cards(self.dialect, *_shape(viewer)), filters)

    def of_creator(self, creator_id: uuid.UUID, viewer: Viewer, *, everything: bool) -> Select[Any]:
        """Cards of a creator's content: all of it (not deleted) for its owner and staff."""
        cards = (
            select_cards(self.dialect)
            if everything
            else _listed_cards(self.dialect, *_shape(viewer))
        )
        return cards.where(Content.creator_id == creator_id)

    def searching(
        self, query: SearchQuery, viewer: Viewer, content_type: ContentType | None
    ) -> tuple[Select[Any], Ordering]:
        """Cards of listed content matching `query`, each with its rank, and their ranking."""
        matches = search.hits(self.dialect, query)
        stmt = (
            _listed_cards(self.dialect, *_shape(viewer))
            .add_columns(matches.c.rank, matches.c.content_id)
            .join(matches, matches.c.content_id == Content.id)
        )
        if content_type is not None:
            stmt = stmt.where(Content.type == content_type)
        return stmt, search.ranking(query, matches)

    async def search(
        self,
        query: SearchQuery,
        viewer: Viewer,
        request: PageRequest,
        paginator: Paginator,
        *,
        content_type: ContentType | None = None,
    ) -> KeysetPage[Row[Any]]:
        stmt, ordering = self.searching(query, viewer, content_type)
        return await self.card_page(stmt, ordering, request, paginator)

    def _filtered(self, stmt: Select[Any], filters: ContentFilter) -> Select[Any]:
        if filters.type is not None:
            stmt = stmt.where(Content.type == filters.type)
        if filters.vr is not None:
            vr = Content.type == ContentType.VR
            stmt = stmt.where(vr if filters.vr else ~vr)
        if filters.creator_id is not None:
            stmt = stmt.where(Content.creator_id == filters.creator_id)
        if filters.category is not None:
            stmt = stmt.where(
                Content.id.in_(
                    select(content_categories.c.content_id)
                    .join(Category, Category.id == content_categories.c.category_id)
                    .where(Category.slug == filters.category, Category.deleted_at.is_(None))
                )
            )
        if filters.tag is not None:
            stmt = stmt.where(
                Content.id.in_(
                    select(content_tags.c.content_id)
                    .join(Tag, Tag.id == content_tags.c.tag_id)
                    .where(Tag.name == filters.tag)
                )
            )
        return stmt

    async def release_due(
        self, now: datetime, status: ContentStatus
    ) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """Move every scheduled draft whose time has come to `status` (published, or
        pending review), each exactly once even when several workers run this together.
        Returns (content id, creator id) of each item moved."""
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
            .returning(Content.id, Content.creator_id)
            .execution_options(synchronize_session=False)
        )
        return [(row.id, row.creator_id) for row in result]


# Card statements are built once per dialect and kind of viewer, then only narrowed per
# request: building the SQL expression costs a request more than the database does.


def _shape(viewer: Viewer) -> tuple[NsfwPolicy, bool]:
    """What of a viewer decides what discovery shows them."""
    return viewer.nsfw_policy, viewer.is_adult


@functools.cache
def _listed_cards(dialect: str, nsfw_policy: NsfwPolicy, is_adult: bool) -> Select[Any]:
    shape = Viewer(is_adult=is_adult, nsfw_policy=nsfw_policy)
    return select_cards(dialect).where(listed(shape, AT_EXECUTION))


def _viewable_cards(dialect: str, viewer: Viewer) -> Select[Any]:
    if viewer.is_staff:
        return select_cards(dialect)
    if viewer.user_id is None:  # nothing of their own: what is listed for them
        return _listed_cards(dialect, *_shape(viewer))
    return select_cards(dialect).where(viewable(viewer, AT_EXECUTION))
