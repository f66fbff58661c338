"""What the playlist tests share: paths, and the items as stored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import Playlist, PlaylistItem

PLAYLISTS = "/api/v1/playlists"


def path(playlist_id: uuid.UUID | str, *rest: str) -> str:
    return "/".join((PLAYLISTS, str(playlist_id), *rest))


@dataclass(frozen=True)
class Stored:
    content_ids: list[uuid.UUID]
    positions: list[int]
    item_count: int

    def assert_dense(self) -> None:
        """Positions exactly 0 … n-1 and an item count equal to the rows."""
        assert self.positions == list(range(len(self.positions)))
        assert self.item_count == len(self.content_ids)


async def stored(session: AsyncSession, playlist_id: uuid.UUID) -> Stored:
    """The playlist's items as stored now, in position order (the read ends at once, so
    the test session holds no lock the application waits for)."""
    rows = (
        await session.execute(
            select(PlaylistItem.content_id, PlaylistItem.position)
            .where(PlaylistItem.playlist_id == playlist_id)
            .order_by(PlaylistItem.position)
        )
    ).all()
    count = await session.scalar(
        select(Playlist.item_count)
        .where(Playlist.id == playlist_id)
        .execution_options(**{INCLUDE_DELETED: True})
    )
    await session.commit()
    return Stored([row.content_id for row in rows], [row.position for row in rows], int(count or 0))


async def listed_content_ids(
    client: httpx.AsyncClient, playlist_id: uuid.UUID, headers: dict[str, str] | None = None
) -> list[str]:
    """The content ids the items list shows, following every cursor."""
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        response = await client.get(path(playlist_id, "items"), params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        seen.extend(item["content"]["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
