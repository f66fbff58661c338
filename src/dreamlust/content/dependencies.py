"""The viewer of a content request, and content loaded as that viewer may see it."""

from __future__ import annotations

import uuid
from typing import Annotated, NamedTuple

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.auth.dependencies import CurrentUser, OptionalUser, signed_in_user
from dreamlust.content import service
from dreamlust.content.visibility import Viewer
from dreamlust.dependencies import DbSession
from dreamlust.errors import NotFound
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import Paginator
from dreamlust.models import Content
from dreamlust.request_session import get_session
from dreamlust.runtime import runtime_of


async def get_viewer(user: OptionalUser) -> Viewer:
    return Viewer.of(user, utcnow().date())


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


class Reading(NamedTuple):
    """What a public read of content needs: the request's session, its viewer and the
    paginator."""

    session: AsyncSession
    viewer: Viewer
    paginator: Paginator


async def reading_of(request: Request) -> Reading:
    """Called by the public read routes themselves rather than declared as a dependency:
    public reads are the most frequent requests, and FastAPI 0.165 spends about 50 µs of
    CPU on each dependency of a route, on every request, a quarter of what the whole
    read costs the baseline (see bench/README.md)."""
    session = await get_session(request)
    user = await signed_in_user(request, session)
    return Reading(session, Viewer.of(user, utcnow().date()), runtime_of(request).paginator)


async def get_managed_content(
    content_id: uuid.UUID, _user: CurrentUser, viewer: ViewerDep, session: DbSession
) -> Content:
    """Content its creator or staff may change; 401 when signed out, 404 for anyone else."""
    return await service.manageable(session, content_id, viewer)


async def get_owned_content(
    content: Annotated[Content, Depends(get_managed_content)], user: CurrentUser
) -> Content:
    """Content only its own creator may act on (staff may not act in their name)."""
    if content.creator.user_id != user.id:
        raise NotFound("No such content.")
    return content


async def get_deleted_content(
    content_id: uuid.UUID, _user: CurrentUser, viewer: ViewerDep, session: DbSession
) -> Content:
    """A soft-deleted item, for its creator or staff to restore."""
    return await service.manageable(session, content_id, viewer, include_deleted=True)


ManagedContent = Annotated[Content, Depends(get_managed_content)]
OwnedContent = Annotated[Content, Depends(get_owned_content)]
DeletedContent = Annotated[Content, Depends(get_deleted_content)]
