"""The statement of a search: cards of the listed content among a query's ranked
candidates, a page at a time."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, Subquery, bindparam
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.cards import select_cards
from dreamlust.content.repository import CardQuery, ContentRepository
from dreamlust.content.visibility import AT_EXECUTION, Viewer, listed
from dreamlust.kit.compiled_once import Record
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.models import Content
from dreamlust.models.enums import ContentType
from dreamlust.search.query import SearchQuery, hits, ranking
from dreamlust.users.preferences import NsfwPolicy

_TYPE = bindparam("type", type_=Content.type.type)


class SearchRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.dialect = session.get_bind().dialect.name

    def statement(
        self,
        query: SearchQuery,
        viewer: Viewer,
        request: PageRequest,
        paginator: Paginator,
        content_type: ContentType | None = None,
    ) -> CardQuery:
        """The page of cards of listed content matching `query`, best match first."""
        stmt = _statement(
            self.dialect,
            viewer.nsfw_policy,
            viewer.is_adult,
            content_type is not None,
            bool(request.cursor),
        )
        params = query.params(self.dialect) | paginator.bound_params(
            ranking(query, _hits(self.dialect)), request
        )
        if content_type is not None:
            params[_TYPE.key] = content_type
        return CardQuery(stmt, params, built_once=True)

    async def search(
        self,
        query: SearchQuery,
        viewer: Viewer,
        request: PageRequest,
        paginator: Paginator,
        *,
        content_type: ContentType | None = None,
    ) -> KeysetPage[Record]:
        return await ContentRepository(self.session).card_page(
            self.statement(query, viewer, request, paginator, content_type),
            ranking(query, _hits(self.dialect)),
            request,
            paginator,
        )


@functools.cache
def _hits(dialect: str) -> Subquery:
    return hits(dialect)


@functools.cache
def _statement(
    dialect: str, nsfw_policy: NsfwPolicy, is_adult: bool, by_type: bool, after: bool
) -> Select[Any]:
    matches = _hits(dialect)
    shape = Viewer(is_adult=is_adult, nsfw_policy=nsfw_policy)
    stmt = (
        select_cards(dialect)
        .where(listed(shape, AT_EXECUTION))
        .add_columns(matches.c.rank, matches.c.content_id)
        .join(matches, matches.c.content_id == Content.id)
    )
    if by_type:
        stmt = stmt.where(Content.type == _TYPE)
    # The ordering's scope (the query's fingerprint) plays no part in the statement.
    return Paginator.apply_bound(stmt, ranking(SearchQuery(()), matches), after=after)
