"""HTTP surface of notifications: the signed-in user's own, live or not, and the
one-click unsubscribe of their e-mails."""

from __future__ import annotations

import uuid
from html import escape
from typing import Annotated

from fastapi import Header, Query, Request, status
from fastapi.responses import HTMLResponse
from sse_starlette import EventSourceResponse

from dreamlust.auth.dependencies import Admin, BearerCredentials, CurrentUser
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep
from dreamlust.kit.schemas import Page
from dreamlust.models import Notification, NotificationEvent
from dreamlust.notifications import service, stream, unsubscribe
from dreamlust.notifications.kinds import TOPICS
from dreamlust.notifications.schemas import (
    AnnouncementCreate,
    AnnouncementRead,
    NotificationRead,
    ReadAll,
    UnreadCount,
    Unsubscribed,
)
from dreamlust.request_session import api_router
from dreamlust.runtime import runtime_of

router = api_router(tags=["notifications"])

# A client that takes no event for this long is let go (it resumes with Last-Event-ID).
SEND_TIMEOUT_SECONDS = 30.0
UnsubscribeToken = Annotated[str, Query(max_length=1000)]


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


@router.get(
    "/notifications/stream",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def live(
    request: Request,
    _user: CurrentUser,
    credentials: BearerCredentials,
    last_event_id: Annotated[str | None, Header(max_length=100)] = None,
) -> EventSourceResponse:
    """The user's notifications as they come, as `notification` events; heartbeats keep
    the connection open. It ends when the access token expires, or is ended by a sign-out
    (nothing is sent after that): reconnect with a fresh one and `Last-Event-ID` to get
    what came meanwhile, once."""
    runtime = runtime_of(request)
    resume = None if last_event_id is None else stream.Place.parse(last_event_id)
    assert credentials is not None  # the user is signed in
    claims = runtime.access_tokens.decode(credentials.credentials)
    return EventSourceResponse(
        stream.events(
            runtime.database,
            runtime.live,
            resume,
            claims,
        ),
        ping=runtime.settings.notification_heartbeat_seconds,
        send_timeout=SEND_TIMEOUT_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/notifications/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_page(token: UnsubscribeToken, request: Request) -> HTMLResponse:
    """The page an e-mail's unsubscribe link opens: it changes nothing by itself (mail
    scanners follow links), its button does."""
    _, setting = runtime_of(request).unsubscribe_tokens.read(token)
    return HTMLResponse(_unsubscribe_page(setting, token))


@router.post("/notifications/unsubscribe", response_model=Unsubscribed)
async def unsubscribe_now(
    token: UnsubscribeToken, request: Request, session: DbSession
) -> Unsubscribed:
    """One-click unsubscribe (RFC 8058, `List-Unsubscribe-Post`): no more e-mail of the
    token's type; in-app delivery stays as it was."""
    user_id, setting = runtime_of(request).unsubscribe_tokens.read(token)
    preferences = await unsubscribe.stop_emails(session, user_id, setting)
    return Unsubscribed(setting=setting, delivery=getattr(preferences.notifications, setting))


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


def _unsubscribe_page(setting: str, token: str) -> str:
    topic = escape(TOPICS[setting])
    return (
        '<!doctype html>\n<html lang="en">\n<body>\n'
        f"<p>Stop the e-mails about {topic}?</p>\n"
        f'<form method="post" action="?token={escape(token)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>\n'
        "</body>\n</html>\n"
    )
