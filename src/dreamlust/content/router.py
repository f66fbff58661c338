"""HTTP surface of content: create, read, list, edit, publish, review, delete, restore."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import Query, Request, Response, status
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.auth.dependencies import OPTIONAL_BEARER, CreatorUser, Staff
from dreamlust.cache.content_answers import serve_cards
from dreamlust.cache.tracking import CATALOG, LISTS, content_scope
from dreamlust.content import cards, service
from dreamlust.content.dependencies import (
    DeletedContent,
    ManagedContent,
    OwnedContent,
    ViewerDep,
    reading_of,
)
from dreamlust.content.repository import (
    LATEST,
    NEWEST_CREATED,
    POPULAR,
    TRENDING,
    ContentFilter,
    ContentRepository,
)
from dreamlust.content.schemas import ContentCreate, ContentRead, ContentUpdate, ReviewDecision
from dreamlust.content.trending import Window
from dreamlust.content.visibility import Viewer
from dreamlust.creators import service as creators
from dreamlust.creators.schemas import HandlePath
from dreamlust.dependencies import DbSession, SettingsDep
from dreamlust.errors import NotFound
from dreamlust.kit.compiled_once import Record
from dreamlust.kit.pagination import PageRequest
from dreamlust.kit.preconditions import IfMatch, expected_version
from dreamlust.kit.schemas import Page, SingleLine
from dreamlust.models.enums import ContentType
from dreamlust.request_session import api_router
from dreamlust.runtime import runtime_of
from dreamlust.taxonomy.service import normalize_tags

router = api_router(tags=["content"])
Sort = Literal["latest", "popular", "trending"]
_ORDERINGS = {"latest": LATEST, "popular": POPULAR, "trending": TRENDING[Window.DAY]}
Filter = Annotated[str | None, Field(max_length=100), SingleLine]


class ContentQuery(PageRequest):
    """`GET /content`: a page of what discovery shows, filtered and sorted."""

    type: ContentType | None = None
    category: Filter = None
    tag: Filter = None
    creator: Filter = None
    is_vr: bool | None = None
    sort: Sort = "latest"


class CreatorContentQuery(PageRequest):
    sort: Sort = "latest"


class TrendingQuery(PageRequest):
    window: Window = Window.DAY
    type: ContentType | None = None


# The detail first: the most requested route, so the one a request is matched against first.
@router.get("/content/{content_id:uuid}", response_model=ContentRead, openapi_extra=OPTIONAL_BEARER)
async def read_content(content_id: uuid.UUID, request: Request) -> Response:
    session, viewer, _ = await reading_of(request)

    async def read(as_viewer: Viewer) -> tuple[Sequence[Record], Response]:
        row = await service.card(session, content_id, as_viewer)
        return [row], await cards.detail_response(session, row, as_viewer)

    return await serve_cards(
        runtime_of(request).cache,
        session,
        viewer,
        name="content",
        key=str(content_id),
        scopes=(CATALOG, content_scope(content_id)),
        read=read,
    )


@router.post("/content", status_code=status.HTTP_201_CREATED, response_model=ContentRead)
async def create_content(
    data: ContentCreate,
    user: CreatorUser,
    session: DbSession,
    viewer: ViewerDep,
) -> Response:
    creator = await creators.my_profile(session, user)
    content = await service.create_content(session, creator, data)
    return await _written(session, content.id, viewer, status_code=status.HTTP_201_CREATED)


@router.get("/content", response_model=Page[ContentRead], openapi_extra=OPTIONAL_BEARER)
async def list_content(request: Request, query: Annotated[ContentQuery, Query()]) -> Response:
    session, viewer, paginator = await reading_of(request)
    creator_id = None
    if query.creator is not None:
        creator_id = (await creators.public_profile(session, query.creator, None)).id
    tag = query.tag
    filters = ContentFilter(
        type=query.type,
        vr=query.is_vr,
        category=query.category,
        tag=normalize_tags([tag])[0] if tag is not None else None,  # "Bay Area": bay-area
        creator_id=creator_id,
    )
    result = await ContentRepository(session).listing(
        viewer, filters, _ORDERINGS[query.sort], query, paginator
    )
    return await cards.page_response(session, result, viewer)


@router.get(
    "/creators/{handle}/content", response_model=Page[ContentRead], openapi_extra=OPTIONAL_BEARER
)
async def list_creator_content(
    handle: HandlePath, request: Request, query: Annotated[CreatorContentQuery, Query()]
) -> Response:
    """A creator's visible content; to its owner and staff, all of it, newest first."""
    session, viewer, paginator = await reading_of(request)
    creator = await creators.public_profile(session, handle, viewer.user)
    everything = viewer.is_staff or creator.user_id == viewer.user_id
    ordering = NEWEST_CREATED if everything else _ORDERINGS[query.sort]
    mine = ContentFilter(creator_id=creator.id)
    result = await ContentRepository(session).listing(
        viewer, mine, ordering, query, paginator, everything=everything
    )
    return await cards.page_response(session, result, viewer)


@router.get("/content/trending", response_model=Page[ContentRead], openapi_extra=OPTIONAL_BEARER)
async def trending_content(request: Request, query: Annotated[TrendingQuery, Query()]) -> Response:
    """What is hot now: time-decayed engagement over the window, served from an index
    (and from the read cache)."""
    session, viewer, paginator = await reading_of(request)
    repository = ContentRepository(session)
    ordering = TRENDING[query.window]

    async def read(as_viewer: Viewer) -> tuple[Sequence[Record], Response]:
        result = await repository.listing(
            as_viewer, ContentFilter(type=query.type), ordering, query, paginator
        )
        return result.items, await cards.page_response(session, result, as_viewer)

    return await serve_cards(
        runtime_of(request).cache,
        session,
        viewer,
        name="trending",
        key=f"{query.window.value}:{query.type or ''}:{query.limit}:{query.cursor or ''}",
        scopes=(CATALOG, LISTS),
        read=read,
    )


@router.patch("/content/{content_id:uuid}", response_model=ContentRead)
async def update_content(
    changes: ContentUpdate,
    content: ManagedContent,
    session: DbSession,
    viewer: ViewerDep,
    if_match: IfMatch = None,
) -> Response:
    version = expected_version(if_match, changes.version)
    updated = await service.update_content(session, content, changes, expected_version=version)
    return await _written(session, updated.id, viewer)


@router.post("/content/{content_id}/publish", response_model=ContentRead)
async def publish_content(
    content: OwnedContent,
    session: DbSession,
    viewer: ViewerDep,
    settings: SettingsDep,
) -> Response:
    published = await service.publish(session, content, settings)
    return await _written(session, published.id, viewer)


@router.delete("/content/{content_id:uuid}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_content(content: ManagedContent, session: DbSession) -> None:
    await service.delete_content(session, content)


@router.post("/content/{content_id}/restore", response_model=ContentRead)
async def restore_content(
    content: DeletedContent,
    session: DbSession,
    viewer: ViewerDep,
    settings: SettingsDep,
) -> Response:
    restored = await service.restore_content(
        session, content, retention=settings.soft_delete_retention
    )
    return await _written(session, restored.id, viewer)


@router.post("/content/{content_id}/review", response_model=ContentRead)
async def review_content(
    decision: ReviewDecision,
    content: ManagedContent,
    staff: Staff,
    session: DbSession,
    viewer: ViewerDep,
) -> Response:
    reviewed = await service.review(session, staff, content, decision.decision, decision.reason)
    return await _written(session, reviewed.id, viewer)


async def _written(
    session: AsyncSession, content_id: uuid.UUID, viewer: Viewer, *, status_code: int = 200
) -> Response:
    """A write answers with the item's card, as its reads do (its version as the ETag)."""
    row = await ContentRepository(session).written_card(content_id)
    if row is None:
        raise NotFound("No such content.")
    return await cards.detail_response(session, row, viewer, status_code=status_code)
