"""HTTP surface of comments: threads, replies, edits, deletes, restores and the pin.

A reply's `parent_id` that names no live comment on the same content is a 422 (the
request is well-formed, but its value breaks a rule); content or comments the caller may
not see are 404, as elsewhere.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response, status

from dreamlust.auth.dependencies import CurrentUser, Staff
from dreamlust.comments import service
from dreamlust.comments.dependencies import ListedComment, LiveComment
from dreamlust.comments.presenter import present, present_page
from dreamlust.comments.repository import TopLevelSort
from dreamlust.comments.schemas import CommentCreate, CommentRead, CommentUpdate
from dreamlust.content import service as content_service
from dreamlust.content.dependencies import ViewerDep
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep, RateLimiterDep, SettingsDep
from dreamlust.kit.preconditions import IfMatch, expected_version, set_etag
from dreamlust.kit.rate_limit import Limit
from dreamlust.kit.schemas import Page
from dreamlust.request_session import api_router

router = api_router(tags=["comments"])


@router.get("/content/{content_id}/comments", response_model=Page[CommentRead])
async def list_comments(
    content_id: uuid.UUID,
    session: DbSession,
    viewer: ViewerDep,
    page: PageParams,
    paginator: PaginatorDep,
    sort: Annotated[TopLevelSort, Query()] = "newest",
) -> Page[CommentRead]:
    """Top-level comments, the pinned one first; each with its number of replies."""
    content = await content_service.viewable(session, content_id, viewer)
    return present_page(await service.top_level(session, content, sort, page, paginator))


@router.post(
    "/content/{content_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentRead,
)
async def create_comment(
    content_id: uuid.UUID,
    data: CommentCreate,
    user: CurrentUser,
    viewer: ViewerDep,
    session: DbSession,
    limiter: RateLimiterDep,
    response: Response,
) -> CommentRead:
    await limiter.hit(Limit.COMMENT, str(user.id))
    content = await content_service.viewable(session, content_id, viewer)
    comment = await service.create(session, user, content, data)
    set_etag(response, comment)
    return present(comment)


@router.get("/comments/{comment_id}", response_model=CommentRead)
async def read_comment(placed: ListedComment, response: Response) -> CommentRead:
    set_etag(response, placed.comment)
    return present(placed.comment)


@router.get("/comments/{comment_id}/replies", response_model=Page[CommentRead])
async def list_replies(
    placed: ListedComment, session: DbSession, page: PageParams, paginator: PaginatorDep
) -> Page[CommentRead]:
    """A comment's replies, oldest first; those of a deleted comment stay reachable."""
    return present_page(await service.replies(session, placed.comment, page, paginator))


@router.patch("/comments/{comment_id}", response_model=CommentRead)
async def edit_comment(
    _user: CurrentUser,
    changes: CommentUpdate,
    placed: LiveComment,
    viewer: ViewerDep,
    session: DbSession,
    response: Response,
    if_match: IfMatch = None,
) -> CommentRead:
    version = expected_version(if_match, changes.version)
    edited = await service.edit(session, viewer, placed, changes.text, expected_version=version)
    set_etag(response, edited)
    return present(edited)


@router.delete("/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_comment(
    _user: CurrentUser, placed: LiveComment, viewer: ViewerDep, session: DbSession
) -> None:
    await service.delete(session, viewer, placed)


@router.post("/comments/{comment_id}/restore", response_model=CommentRead)
async def restore_comment(
    comment_id: uuid.UUID,
    _staff: Staff,
    viewer: ViewerDep,
    session: DbSession,
    settings: SettingsDep,
    response: Response,
) -> CommentRead:
    restored = await service.restore_deleted(
        session, comment_id, viewer, retention=settings.soft_delete_retention
    )
    set_etag(response, restored)
    return present(restored)


@router.post("/comments/{comment_id}/pin", response_model=CommentRead)
async def pin_comment(
    _user: CurrentUser, placed: LiveComment, viewer: ViewerDep, session: DbSession
) -> CommentRead:
    return present(await service.pin(session, viewer, placed))


@router.delete("/comments/{comment_id}/pin", response_model=CommentRead)
async def unpin_comment(
    _user: CurrentUser, placed: LiveComment, viewer: ViewerDep, session: DbSession
) -> CommentRead:
    return present(await service.unpin(session, viewer, placed))
