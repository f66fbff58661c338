"""HTTP surface of notifications: the signed-in user's own."""

from __future__ import annotations

import uuid

from fastapi import status

from dreamlust.auth.dependencies import Admin, CurrentUser
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep
from dreamlust.kit.schemas import Page
from dreamlust.models import Notification, NotificationEvent
from dreamlust.notifications import service
from dreamlust.notifications.schemas import (
    AnnouncementCreate,
    AnnouncementRead,
    NotificationRead,
    ReadAll,
    UnreadCount,
)
from dreamlust.request_session import api_router

router = api_router(tags=["notifications"])


@router.get("/notifications", response_model=Page[NotificationRead])
async def my_notifications(
    user: CurrentUser,
    session: DbSession,
    page: PageParams,
    paginator: PaginatorDep,
    unread: bool = False,
) -> Page[NotificationRead]:
    result = await service.listed(session, user, page, paginator, unread=unread)
    return Page[NotificationRead].model_validate(result)


@router.get("/notifications/unread-count", response_model=UnreadCount)
async def unread_count(user: CurrentUser, session: DbSession) -> UnreadCount:
    return UnreadCount(unread=await service.unread_count(session, user))


@router.post("/notifications/read-all", response_model=ReadAll)
async def read_all(user: CurrentUser, session: DbSession) -> ReadAll:
    return ReadAll(marked_read=await service.read_all(session, user))


@router.post(
    "/admin/announcements", response_model=AnnouncementRead, status_code=status.HTTP_202_ACCEPTED
)
async def announce(body: AnnouncementCreate, admin: Admin, session: DbSession) -> NotificationEvent:
    """Accepted: the worker delivers it to its audience in batches."""
    return await service.announce(session, admin, body)


@router.post("/notifications/{notification_id}/read", response_model=NotificationRead)
async def read(notification_id: uuid.UUID, user: CurrentUser, session: DbSession) -> Notification:
    return await service.read(session, user, notification_id)
