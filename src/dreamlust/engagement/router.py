"""HTTP surface of likes, follows and the feed."""

from __future__ import annotations

import uuid

from fastapi import Response
from pydantic import BaseModel

from dreamlust.auth.dependencies import CurrentUser
from dreamlust.content import cards
from dreamlust.content.dependencies import ViewerDep
from dreamlust.content.schemas import ContentRead
from dreamlust.creators import service as creators
from dreamlust.creators.schemas import CreatorRead, HandlePath
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep
from dreamlust.engagement import service
from dreamlust.kit.schemas import Page
from dreamlust.request_session import api_router

router = api_router(tags=["engagement"])


class LikeState(BaseModel):
    liked: bool
    like_count: int


class FollowState(BaseModel):
    following: bool
    follower_count: int


@router.put("/content/{content_id}/like", response_model=LikeState)
async def like(
    content_id: uuid.UUID, _user: CurrentUser, viewer: ViewerDep, session: DbSession
) -> LikeState:
    return LikeState(liked=True, like_count=await service.like(session, viewer, content_id))


@router.delete("/content/{content_id}/like", response_model=LikeState)
async def unlike(
    content_id: uuid.UUID, _user: CurrentUser, viewer: ViewerDep, session: DbSession
) -> LikeState:
    return LikeState(liked=False, like_count=await service.unlike(session, viewer, content_id))


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
