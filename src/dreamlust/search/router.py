"""HTTP surface of search: `GET /search`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

from dreamlust.auth.dependencies import OPTIONAL_BEARER
from dreamlust.content import cards
from dreamlust.content.dependencies import reading_of
from dreamlust.content.schemas import ContentRead
from dreamlust.dependencies import PageParams
from dreamlust.kit.schemas import Page, SingleLine
from dreamlust.models.enums import ContentType
from dreamlust.request_session import api_router
from dreamlust.search import service
from dreamlust.search.query import MAX_QUERY_LENGTH

router = api_router(tags=["search"])
SearchText = Annotated[str, Query(max_length=MAX_QUERY_LENGTH), SingleLine]


@router.get("/search", response_model=Page[ContentRead], openapi_extra=OPTIONAL_BEARER)
async def search_content(
    q: SearchText, request: Request, page: PageParams, type: ContentType | None = None
) -> Response:
    """Content matching every word of `q` (as prefixes), best match first."""
    session, viewer, paginator = await reading_of(request)
    result = await service.search(session, viewer, q, page, paginator, content_type=type)
    return await cards.page_response(session, result, viewer)
