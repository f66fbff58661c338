"""HTTP surface of creators: profiles, tiers and the staff workflow."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import Query, Request, Response, status

from dreamlust.auth.dependencies import CreatorUser, CurrentUser, OptionalUser, Staff
from dreamlust.cache.entries import Answer
from dreamlust.cache.public_answers import json_answer, serve_public
from dreamlust.cache.tracking import CATALOG
from dreamlust.creators import service, statistics
from dreamlust.creators.schemas import (
    ContentEngagement,
    CreatorCreate,
    CreatorRead,
    CreatorStatistics,
    CreatorUpdate,
    HandlePath,
    StaffDecision,
)
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep, SettingsDep
from dreamlust.errors import NotFound
from dreamlust.kit.preconditions import IfMatch, etag, expected_version, set_etag
from dreamlust.kit.schemas import Page, SingleLine
from dreamlust.models import Creator
from dreamlust.request_session import api_router
from dreamlust.runtime import runtime_of

router = api_router(tags=["creators"])
Decision = Literal["approve", "reject", "verify", "suspend"]
CategoryFilter = Annotated[str | None, Query(max_length=100), SingleLine]


@router.post("/creators", status_code=status.HTTP_201_CREATED, response_model=CreatorRead)
async def become_creator(
    data: CreatorCreate, user: CurrentUser, session: DbSession, settings: SettingsDep
) -> Creator:
    return await service.become_creator(session, user, data, settings)


@router.get("/creators", response_model=Page[CreatorRead])
async def list_creators(
    session: DbSession,
    page: PageParams,
    paginator: PaginatorDep,
    category: CategoryFilter = None,
    verified: bool | None = None,
    sort: Literal["popular", "new"] = "popular",
) -> Page[CreatorRead]:
    result = await service.list_creators(
        session, page, paginator, category=category, verified=verified, popular=sort == "popular"
    )
    return Page[CreatorRead].model_validate(result)


@router.get("/creators/me", response_model=CreatorRead)
async def read_my_profile(user: CreatorUser, session: DbSession, response: Response) -> Creator:
    creator = await service.my_profile(session, user)
    set_etag(response, creator)
    return creator


@router.get("/creators/me/statistics", response_model=CreatorStatistics)
async def read_my_statistics(user: CreatorUser, session: DbSession) -> CreatorStatistics:
    creator = await service.my_profile(session, user)
    return await statistics.of_creator(session, creator)


@router.get("/creators/me/statistics/content", response_model=Page[ContentEngagement])
async def list_my_content_engagement(
    user: CreatorUser, session: DbSession, page: PageParams, paginator: PaginatorDep
) -> Page[ContentEngagement]:
    creator = await service.my_profile(session, user)
    result = await statistics.content_engagement(session, creator, page, paginator)
    return Page[ContentEngagement].model_validate(result)


@router.patch("/creators/me", response_model=CreatorRead)
async def update_my_profile(
    changes: CreatorUpdate,
    user: CreatorUser,
    session: DbSession,
    response: Response,
    if_match: IfMatch = None,
) -> Creator:
    version = expected_version(if_match, changes.version)
    creator = await service.my_profile(session, user)
    updated = await service.update_profile(session, creator, changes, expected_version=version)
    set_etag(response, updated)
    return updated


@router.get("/creators/{handle}", response_model=CreatorRead)
async def read_creator(
    handle: HandlePath, session: DbSession, viewer: OptionalUser, request: Request
) -> Response:
    """An approved creator's page is the same for everyone (and cached); any other only
    reaches the creator and staff."""

    async def read_public() -> Answer:
        return _profile(await service.public_profile(session, handle, None))

    try:
        return await serve_public(
            runtime_of(request).cache,
            name="creator",
            key=handle.lower(),
            scopes=(CATALOG,),
            read=read_public,
        )
    except NotFound:
        if viewer is None:
            raise
        return _profile(await service.public_profile(session, handle, viewer)).response()


def _profile(creator: Creator) -> Answer:
    return json_answer(CreatorRead.model_validate(creator), etag(creator.version))


@router.post("/admin/creators/{creator_id}/{decision}", response_model=CreatorRead)
async def decide(
    creator_id: uuid.UUID,
    decision: Decision,
    staff: Staff,
    session: DbSession,
    body: StaffDecision | None = None,
) -> Creator:
    return await service.decide(session, staff, creator_id, decision, body.reason if body else None)
