"""HTTP surface of likes, follows and the feed."""

from __future__ import annotations

import uuid

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.auth.dependencies import REQUIRED_BEARER, CurrentUser, required_user
from dreamlust.content import cards
from dreamlust.content.dependencies import ViewerDep
from dreamlust.content.schemas import ContentRead
from dreamlust.content.visibility import Viewer
from dreamlust.creators import service as creators
from dreamlust.creators.schemas import CreatorRead, HandlePath
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep
from dreamlust.engagement import service
from dreamlust.kit.clock import utcnow
from dreamlust.kit.schemas import Page
from dreamlust.request_session import OneStatementWriteRoute, api_router, get_session

router = api_router(tags=["engagement"])
# A like or unlike is one statement on PostgreSQL (`LikeRepository.toggle`).
liking_router = api_router(tags=["engagement"], route_class=OneStatementWriteRoute)


class LikeState(BaseModel):
    liked: bool
    like_count: int


class FollowState(BaseModel):
    following: bool
    follower_count: int


async def _liker(request: Request) -> tuple[AsyncSession, Viewer]:
    """The request's session and its signed-in viewer, read by the route itself: a like
    is a frequent write, and each dependency node costs FastAPI work on every request."""
    session = await get_session(request)
    user = await required_user(request, session)
    return session, Viewer.of(user, utcnow().date())


@liking_router.put(
    "/content/{content_id}/like", response_model=LikeState, openapi_extra=REQUIRED_BEARER
)
async def like(content_id: uuid.UUID, request: Request) -> Response:
    session, viewer = await _liker(request)
    count = await service.like(session, viewer, content_id)
    return cards.json_response({"liked": True, "like_count": count})


@liking_router.delete(
    "/content/{content_id}/like", response_model=LikeState, openapi_extra=REQUIRED_BEARER
)
async def unlike(content_id: uuid.UUID, request: Request) -> Response:
    session, viewer = await _liker(request)
    count = await service.unlike(session, viewer, content_id)
    return cards.json_response({"liked": False, "like_count": count})


@router.put("/creators/{handle}/follow", response_model=FollowState)
async def follow(handle: HandlePath, user: CurrentUser, session: DbSession) -> FollowState:
    creator = await creators.public_profile(session, handle, None)
    count = await service.follow(session, user, creator)
    return FollowState(following=True, follower_count=count)


@router.delete("/creators/{handle}/follow", response_model=FollowState)
async def unfollow(handle: HandlePath, user: CurrentUser, session: DbSession) -> FollowState:
    creator = await creators.public_profile(session, handle, None)
    count = await service.unfollow(session, user, creator)
    return FollowState(following=False, follower_count=count)


@router.get("/users/me/likes", response_model=Page[ContentRead])
async def my_likes(
    _user: CurrentUser,
    viewer: ViewerDep,
    session: DbSession,
    page: PageParams,
    paginator: PaginatorDep,
) -> Response:
    result = await service.liked_content(session, viewer, page, paginator)
    return await cards.page_response(session, result, viewer)


@router.get("/users/me/following", response_model=Page[CreatorRead])
async def my_following(
    user: CurrentUser, session: DbSession, page: PageParams, paginator: PaginatorDep
) -> Page[CreatorRead]:
    result = await service.followed_creators(session, user, page, paginator)
    return Page[CreatorRead].model_validate(result)


@router.get("/users/me/feed", response_model=Page[ContentRead])
async def my_feed(
    _user: CurrentUser,
    viewer: ViewerDep,
    session: DbSession,
    page: PageParams,
    paginator: PaginatorDep,
) -> Response:
    result = await service.feed(session, viewer, page, paginator)
    return await cards.page_response(session, result, viewer)
