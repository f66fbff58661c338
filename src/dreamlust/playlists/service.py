"""The rules of playlists.

Every change to a playlist's items first locks the playlist (see the repository), so
changes to one playlist run one at a time: positions stay exactly 0 … item_count-1 and
`item_count` equals the number of item rows, whatever runs concurrently. Items whose
content was deleted or hidden later keep their place and their count; reads skip them.
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content import service as content_service
from dreamlust.content.repository import ContentRepository
from dreamlust.content.visibility import Viewer
from dreamlust.errors import Conflict, InvalidInput, NotFound
from dreamlust.kit.compiled_once import Record
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.kit.repository import expect_version, soft_delete
from dreamlust.models import Playlist, User
from dreamlust.playlists.repository import (
    BY_POSITION,
    NEWEST_FIRST,
    PlaylistItemRepository,
    PlaylistRepository,
)
from dreamlust.playlists.schemas import MAX_ITEMS, PlaylistCreate, PlaylistUpdate

_NO_SUCH_PLAYLIST = "No such playlist."


class PlaylistWithOwner(NamedTuple):
    playlist: Playlist
    owner: User


class Item(NamedTuple):
    card: Record  # the content's card
    position: int


async def create(session: AsyncSession, owner: User, data: PlaylistCreate) -> Playlist:
    playlist = Playlist(owner_id=owner.id, **data.model_dump())
    return await PlaylistRepository(session).add(playlist)


async def readable(
    session: AsyncSession, playlist_id: uuid.UUID, reader: User | None
) -> PlaylistWithOwner:
    """The playlist with its owner: for the owner, or anyone when it is public; else 404."""
    found = await PlaylistRepository(session).readable_by_id(
        playlist_id, reader.id if reader is not None else None
    )
    if found is None:
        raise NotFound(_NO_SUCH_PLAYLIST)
    return PlaylistWithOwner(*found)


async def owned(session: AsyncSession, playlist_id: uuid.UUID, owner: User) -> Playlist:
    """The playlist if `owner` owns it; 404 for anyone else, as if it did not exist."""
    playlist = await PlaylistRepository(session).owned_by_id(playlist_id, owner.id)
    if playlist is None:
        raise NotFound(_NO_SUCH_PLAYLIST)
    return playlist


async def of_owner(
    session: AsyncSession,
    owner: User,
    page: PageRequest,
    paginator: Paginator,
    *,
    public_only: bool,
) -> KeysetPage[Playlist]:
    """The owner's playlists (only the public ones when `public_only`), newest first."""
    repository = PlaylistRepository(session)
    stmt = repository.of_owner(owner.id, public_only=public_only)
    return await repository.page(stmt, NEWEST_FIRST, page, paginator)


async def update(
    session: AsyncSession, playlist: Playlist, changes: PlaylistUpdate, *, expected_version: int
) -> Playlist:
    expect_version(playlist, expected_version)
    values = changes.model_dump(exclude_unset=True, exclude={"version"})
    return await PlaylistRepository(session).update(playlist, values)


async def delete(session: AsyncSession, playlist: Playlist) -> None:
    await soft_delete(session, playlist)


async def items(
    session: AsyncSession,
    playlist: Playlist,
    viewer: Viewer,
    page: PageRequest,
    paginator: Paginator,
) -> KeysetPage[Record]:
    """Cards of the items the viewer may open, each with its `position`, in position
    order; the others are left out."""
    stmt = PlaylistItemRepository(session).visible_cards(playlist.id, viewer)
    return await ContentRepository(session).card_list(stmt, BY_POSITION, page, paginator)


async def add_item(
    session: AsyncSession,
    playlist: Playlist,
    viewer: Viewer,
    content_id: uuid.UUID,
    position: int | None = None,
) -> Item:
    """Put content the owner may open at `position` (0-based), or at the end.

    Content the owner may not open is a 422 on `content_id` ("No such content.", as
    everywhere else it is to them): a 404 would say the playlist was not found."""
    await _lock(session, playlist)
    try:
        card = await content_service.card(session, content_id, viewer)
    except NotFound as missing:
        raise InvalidInput(missing.detail, loc=("body", "content_id")) from missing
    item_repository = PlaylistItemRepository(session)
    if await item_repository.contains(playlist.id, content_id):
        raise Conflict("The content is already in this playlist.")
    count = playlist.item_count
    if count >= MAX_ITEMS:
        raise Conflict(f"A playlist holds at most {MAX_ITEMS} items.")
    if position is None:
        position = count
    elif position > count:
        raise InvalidInput(
            f"The position must be between 0 and the item count ({count}).",
            loc=("body", "position"),
        )
    else:
        await item_repository.shift(playlist.id, position, +1)
    await item_repository.insert(playlist.id, content_id, position)
    await PlaylistRepository(session).count_items(playlist, +1)
    return Item(card, position)


async def remove_item(session: AsyncSession, playlist: Playlist, content_id: uuid.UUID) -> None:
    """Take the item out; the items after it move up one place."""
    await _lock(session, playlist)
    item_repository = PlaylistItemRepository(session)
    position = await item_repository.delete(playlist.id, content_id)
    if position is None:
        raise NotFound("The content is not in this playlist.")
    await item_repository.shift(playlist.id, position + 1, -1)
    await PlaylistRepository(session).count_items(playlist, -1)


async def reorder(session: AsyncSession, playlist: Playlist, content_ids: list[uuid.UUID]) -> None:
    """Put the items in the given order, which must name every item exactly once.

    Anything else (an item missing or named twice, content that is not in the playlist)
    is a 409 that changes nothing: the client's copy is out of date."""
    await _lock(session, playlist)
    item_repository = PlaylistItemRepository(session)
    current = await item_repository.content_ids(playlist.id)
    if len(set(content_ids)) != len(content_ids):
        raise Conflict("The new order names an item more than once.")
    if set(content_ids) != set(current):
        raise Conflict(
            f"The new order must name exactly the {len(current)} items of the playlist; "
            "reload it and try again."
        )
    if content_ids != current:
        await item_repository.reorder(playlist.id, content_ids)
        await PlaylistRepository(session).count_items(playlist, 0)


async def _lock(session: AsyncSession, playlist: Playlist) -> None:
    if not await PlaylistRepository(session).lock(playlist):
        raise NotFound(_NO_SUCH_PLAYLIST)
