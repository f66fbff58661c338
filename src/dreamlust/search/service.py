"""Searching content: the query a user typed, checked, and a page of what it finds."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.visibility import Viewer
from dreamlust.errors import InvalidInput
from dreamlust.kit.compiled_once import Record
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.models.enums import ContentType
from dreamlust.search.query import SearchQuery
from dreamlust.search.repository import SearchRepository


async def search(
    session: AsyncSession,
    viewer: Viewer,
    text: str,
    page: PageRequest,
    paginator: Paginator,
    *,
    content_type: ContentType | None = None,
) -> KeysetPage[Record]:
    """Cards of what this viewer may discover that matches `text`, best match first."""
    query = SearchQuery.parse(text)
    if not query.terms:
        raise InvalidInput("q needs at least one letter or digit.", loc=("query", "q"))
    return await SearchRepository(session).search(
        query, viewer, page, paginator, content_type=content_type
    )
