"""The queries of a creator's statistics: reads of the `creator_statistics` and
`content_engagement` views (`models.read_models`)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.pagination import KeysetPage, Ordering, PageRequest, Paginator, SortKey
from dreamlust.models import Content
from dreamlust.models.read_models import content_engagement, creator_statistics

# The creator's items newest first, read from `ix_content_creator_id_created_at_id`.
NEWEST_ITEMS = Ordering(
    scope="creators:statistics:content",
    keys=(SortKey(Content.created_at), SortKey(Content.id)),
)

_ITEM_COLUMNS = (
    Content.id,
    Content.title,
    Content.type,
    Content.status,
    Content.created_at,
    Content.published_at,
)
_ENGAGEMENT_COLUMNS = tuple(
    column for column in content_engagement.c if column.key not in {"content_id", "creator_id"}
)


def statistics_of(creator_id: uuid.UUID) -> Select[Any]:
    return select(creator_statistics).where(creator_statistics.c.creator_id == creator_id)


def items_with_engagement(creator_id: uuid.UUID) -> Select[Any]:
    """The creator's items (the session's filter leaves deleted ones out), each joined to
    its `content_engagement` row."""
    return (
        select(*_ITEM_COLUMNS, *_ENGAGEMENT_COLUMNS)
        .join_from(Content, content_engagement, content_engagement.c.content_id == Content.id)
        .where(Content.creator_id == creator_id)
    )


class StatisticsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def of_creator(self, creator_id: uuid.UUID) -> Row[Any]:
        """The creator's row of `creator_statistics` (every creator has one)."""
        row: Row[Any] = (await self.session.execute(statistics_of(creator_id))).one()
        return row

    async def content_page(
        self, creator_id: uuid.UUID, request: PageRequest, paginator: Paginator
    ) -> KeysetPage[Row[Any]]:
        """A page of the creator's live items, each with its `content_engagement` row; the
        view's counts are computed for the rows of the page only."""
        stmt = paginator.apply(items_with_engagement(creator_id), NEWEST_ITEMS, request)
        rows = (await self.session.execute(stmt)).all()
        return paginator.page(rows, NEWEST_ITEMS, request)
