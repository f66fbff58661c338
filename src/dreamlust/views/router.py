"""HTTP surface of views and watch history."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Body, Request, Response, status

from dreamlust.auth.dependencies import OPTIONAL_BEARER, CurrentUser
from dreamlust.content import cards
from dreamlust.content.dependencies import ViewerDep
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep
from dreamlust.kit.clock import utcnow
from dreamlust.kit.compiled_once import Record
from dreamlust.kit.schemas import Page
from dreamlust.request_session import OneStatementWriteRoute, api_router
from dreamlust.views import service
from dreamlust.views.dependencies import recording_of
from dreamlust.views.schemas import HistoryEntry, ViewCreate, ViewRecorded
from dreamlust.write_limits import write_hits

router = api_router(tags=["views"])
# Recording a view is one statement on PostgreSQL (`ViewRepository.count_unless_seen`).
recording_router = api_router(tags=["views"], route_class=OneStatementWriteRoute)


@recording_router.post(
    "/content/{content_id}/views",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ViewRecorded,
    openapi_extra=OPTIONAL_BEARER,
)
async def record_view(
    content_id: uuid.UUID,
    request: Request,
    body: Annotated[ViewCreate | None, Body()] = None,
) -> Response:
    duration = body.duration if body is not None else None
    hits = write_hits(request)
    session, settings, to, viewer, watcher = await recording_of(request)
    counted = await service.record_view(
        session, settings, to, content_id, viewer, watcher, duration, utcnow(), hits
    )
    # `ViewRecorded` as JSON, without a pass through the response model: the most
    # frequent write answers with one boolean.
    return cards.json_response({"counted": counted}, status_code=status.HTTP_202_ACCEPTED)


@router.get("/users/me/history", response_model=Page[HistoryEntry])
async def my_history(
    _user: CurrentUser,
    viewer: ViewerDep,
    session: DbSession,
    page: PageParams,
    paginator: PaginatorDep,
) -> Response:
    result = await service.history(session, viewer, page, paginator)
    return await cards.entries_response(session, result, viewer, _history_entry)


def _history_entry(row: Record, card: dict[str, Any]) -> dict[str, Any]:
    """A `HistoryEntry`."""
    return {"content": card, "watched_at": row.watched_at}


@router.delete("/users/me/history", status_code=status.HTTP_204_NO_CONTENT)
async def clear_my_history(user: CurrentUser, session: DbSession) -> None:
    await service.clear_history(session, user)
