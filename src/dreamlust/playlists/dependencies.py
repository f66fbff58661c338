"""Playlists loaded as the caller may use them: readable (owner, or anyone when public)
or owned (the owner only; 404 for everyone else)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from dreamlust.auth.dependencies import CurrentUser, OptionalUser
from dreamlust.dependencies import DbSession
from dreamlust.models import Playlist
from dreamlust.playlists import service


async def get_readable_playlist(
    playlist_id: uuid.UUID, reader: OptionalUser, session: DbSession
) -> service.PlaylistWithOwner:
    return await service.readable(session, playlist_id, reader)


async def get_owned_playlist(
    playlist_id: uuid.UUID, owner: CurrentUser, session: DbSession
) -> Playlist:
    return await service.owned(session, playlist_id, owner)


ReadablePlaylist = Annotated[service.PlaylistWithOwner, Depends(get_readable_playlist)]
OwnedPlaylist = Annotated[Playlist, Depends(get_owned_playlist)]
