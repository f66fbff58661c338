"""HTTP surface of playlists: create, read, list, edit, delete, and their items."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Path, Response, status

from dreamlust.auth.dependencies import CurrentUser
from dreamlust.content import cards
from dreamlust.content.dependencies import ViewerDep
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep
from dreamlust.kit.compiled_once import Record
from dreamlust.kit.pagination import KeysetPage
from dreamlust.kit.preconditions import IfMatch, expected_version, set_etag
from dreamlust.kit.schemas import Page, SingleLine
from dreamlust.models import Playlist, User
from dreamlust.playlists import service
from dreamlust.playlists.dependencies import OwnedPlaylist, ReadablePlaylist
from dreamlust.playlists.schemas import (
    ItemAdd,
    ItemOrder,
    ItemRead,
    PlaylistCreate,
    PlaylistRead,
    PlaylistUpdate,
)
from dreamlust.request_session import api_router
from dreamlust.users import service as users

router = api_router(tags=["playlists"])
UsernamePath = Annotated[str, Path(max_length=100), SingleLine]


def _page_of(result: KeysetPage[Playlist], owner: User) -> Page[PlaylistRead]:
    return Page[PlaylistRead](
        items=[PlaylistRead.of(playlist, owner) for playlist in result.items],
        next_cursor=result.next_cursor,
    )


@router.get("/playlists", response_model=Page[PlaylistRead])
async def my_playlists(
    user: CurrentUser, session: DbSession, page: PageParams, paginator: PaginatorDep
) -> Page[PlaylistRead]:
    result = await service.of_owner(session, user, page, paginator, public_only=False)
    return _page_of(result, user)


@router.post("/playlists", status_code=status.HTTP_201_CREATED, response_model=PlaylistRead)
async def create_playlist(
    data: PlaylistCreate, user: CurrentUser, session: DbSession, response: Response
) -> PlaylistRead:
    playlist = await service.create(session, user, data)
    set_etag(response, playlist)
    return PlaylistRead.of(playlist, user)


@router.get("/users/{username}/playlists", response_model=Page[PlaylistRead])
async def public_playlists(
    username: UsernamePath, session: DbSession, page: PageParams, paginator: PaginatorDep
) -> Page[PlaylistRead]:
    owner = await users.public_profile(session, username)
    result = await service.of_owner(session, owner, page, paginator, public_only=True)
    return _page_of(result, owner)


@router.get("/playlists/{playlist_id}", response_model=PlaylistRead)
async def read_playlist(found: ReadablePlaylist, response: Response) -> PlaylistRead:
    set_etag(response, found.playlist)
    return PlaylistRead.of(found.playlist, found.owner)


@router.patch("/playlists/{playlist_id}", response_model=PlaylistRead)
async def update_playlist(
    changes: PlaylistUpdate,
    playlist: OwnedPlaylist,
    user: CurrentUser,
    session: DbSession,
    response: Response,
    if_match: IfMatch = None,
) -> PlaylistRead:
    version = expected_version(if_match, changes.version)
    updated = await service.update(session, playlist, changes, expected_version=version)
    set_etag(response, updated)
    return PlaylistRead.of(updated, user)


@router.delete("/playlists/{playlist_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_playlist(playlist: OwnedPlaylist, session: DbSession) -> None:
    await service.delete(session, playlist)


@router.get("/playlists/{playlist_id}/items", response_model=Page[ItemRead])
async def list_items(
    found: ReadablePlaylist,
    viewer: ViewerDep,
    session: DbSession,
    page: PageParams,
    paginator: PaginatorDep,
) -> Response:
    """The items in position order; those whose content the reader may not open are
    left out (the positions of the others stay as stored)."""
    result = await service.items(session, found.playlist, viewer, page, paginator)
    return await cards.entries_response(session, result, viewer, _item)


@router.post(
    "/playlists/{playlist_id}/items",
    status_code=status.HTTP_201_CREATED,
    response_model=ItemRead,
)
async def add_item(
    data: ItemAdd, playlist: OwnedPlaylist, viewer: ViewerDep, session: DbSession
) -> Response:
    """Add content at `position` (0-based) or at the end. Content the owner may not open
    is a 422 on `content_id`; content already in the playlist, or a full playlist, a 409."""
    item = await service.add_item(session, playlist, viewer, data.content_id, data.position)
    [card] = await cards.cards(session, [item.card], viewer)
    return cards.json_response(
        {"position": item.position, "content": card}, status_code=status.HTTP_201_CREATED
    )


def _item(row: Record, card: dict[str, Any]) -> dict[str, Any]:
    """An `ItemRead`."""
    return {"position": row.position, "content": card}


@router.delete(
    "/playlists/{playlist_id}/items/{content_id}", status_code=status.HTTP_204_NO_CONTENT
)
async def remove_item(content_id: uuid.UUID, playlist: OwnedPlaylist, session: DbSession) -> None:
    await service.remove_item(session, playlist, content_id)


@router.put("/playlists/{playlist_id}/items/order", response_model=PlaylistRead)
async def reorder_items(
    order: ItemOrder, playlist: OwnedPlaylist, user: CurrentUser, session: DbSession
) -> PlaylistRead:
    """Replace the order of the items: `content_ids` names every item once (else 409)."""
    await service.reorder(session, playlist, order.content_ids)
    return PlaylistRead.of(playlist, user)
