"""HTTP surface of views and watch history."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Body, status

from dreamlust.auth.dependencies import CurrentUser
from dreamlust.content.dependencies import ViewerDep
from dreamlust.content.presenter import present_page
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep, SettingsDep
from dreamlust.kit.clock import utcnow
from dreamlust.kit.schemas import Page
from dreamlust.request_session import api_router
from dreamlust.views import service
from dreamlust.views.dependencies import ViewBufferDep, WatcherDep
from dreamlust.views.schemas import HistoryEntry, ViewCreate, ViewRecorded

router = api_router(tags=["views"])


@router.post(
    "/content/{content_id}/views",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ViewRecorded,
)
async def record_view(
    content_id: uuid.UUID,
    viewer: ViewerDep,
    watcher: WatcherDep,
    session: DbSession,
    settings: SettingsDep,
    buffer: ViewBufferDep,
    body: Annotated[ViewCreate | None, Body()] = None,
) -> ViewRecorded:
    duration = body.duration if body is not None else None
    counted = await service.record_view(
        session, settings, buffer, content_id, viewer, watcher, duration, utcnow()
    )
    return ViewRecorded(counted=counted)


@router.get("/users/me/history", response_model=Page[HistoryEntry])
async def my_history(
    _user: CurrentUser,
    viewer: ViewerDep,
    session: DbSession,
    page: PageParams,
    paginator: PaginatorDep,
) -> Page[HistoryEntry]:
    entries = await service.history(session, viewer, utcnow(), page, paginator)
    cards = await present_page(session, entries.map(lambda entry: entry[0]), viewer)
    return Page[HistoryEntry](
        items=[
            HistoryEntry(content=card, watched_at=watched_at)
            for card, (_content, watched_at) in zip(cards.items, entries.items, strict=True)
        ],
        next_cursor=entries.next_cursor,
    )


@router.delete("/users/me/history", status_code=status.HTTP_204_NO_CONTENT)
async def clear_my_history(user: CurrentUser, session: DbSession) -> None:
    await service.clear_history(session, user)
