"""HTTP surface of search: `GET /search`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response
from pydantic import Field

from dreamlust.auth.dependencies import OPTIONAL_BEARER
from dreamlust.content import cards
from dreamlust.content.dependencies import reading_of
from dreamlust.content.schemas import ContentRead
from dreamlust.kit.pagination import PageRequest
from dreamlust.kit.schemas import Page, SingleLine
from dreamlust.models.enums import ContentType
from dreamlust.request_session import api_router
from dreamlust.search import service
from dreamlust.search.query import MAX_QUERY_LENGTH

router = api_router(tags=["search"])


class SearchRequest(PageRequest):
    """`GET /search`: the words to look for, and a page of what matches them."""

    q: Annotated[str, Field(max_length=MAX_QUERY_LENGTH), SingleLine]
    type: ContentType | None = None


@router.get("/search", response_model=Page[ContentRead], openapi_extra=OPTIONAL_BEARER)
async def search_content(request: Request, query: Annotated[SearchRequest, Query()]) -> Response:
    """Content matching every word of `q` (as prefixes), best match first."""
    session, viewer, paginator = await reading_of(request)
    result = await service.search(
        session, viewer, query.q, query, paginator, content_type=query.type
    )
    return await cards.page_response(session, result, viewer)
