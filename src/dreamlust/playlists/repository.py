"""Every query on playlists and their items.

Positions are dense (0 … n-1) and unique per playlist, and PostgreSQL checks that
uniqueness row by row, so rows are never moved in place with `position + 1`. The rows
that move are first parked at negative positions (`-position - 1`: distinct, and below
every live one), then set to their final positions: two set-based UPDATEs, however many
items move.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Select, Uuid, column, delete, insert, or_, select, update, values
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import attributes
from sqlalchemy.sql.elements import ColumnElement

from dreamlust.content.repository import ContentRepository
from dreamlust.content.visibility import Viewer
from dreamlust.kit.ids import new_id
from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.repository import Repository
from dreamlust.models import Content, Playlist, PlaylistItem, User

NEWEST_FIRST = Ordering(
    scope="playlists:newest",
    keys=(SortKey(Playlist.created_at), SortKey(Playlist.id)),
)
# Unique within a playlist, so the position is its own tie-breaker.
BY_POSITION = Ordering(
    scope="playlist-items:position",
    keys=(SortKey(PlaylistItem.position, descending=False),),
)
_NOT_SYNCED = {"synchronize_session": False}


class PlaylistRepository(Repository[Playlist]):
    model = Playlist

    def of_owner(self, owner_id: uuid.UUID, *, public_only: bool = False) -> Select[Playlist]:
        stmt = self.select().where(Playlist.owner_id == owner_id)
        if public_only:
            stmt = stmt.where(Playlist.is_public.is_(True))
        return stmt

    async def readable_by_id(
        self, playlist_id: uuid.UUID, reader_id: uuid.UUID | None
    ) -> tuple[Playlist, User] | None:
        """The playlist and its owner, when it is public or the reader owns it."""
        access: ColumnElement[bool] = Playlist.is_public.is_(True)
        if reader_id is not None:
            access = or_(access, Playlist.owner_id == reader_id)
        stmt = (
            select(Playlist, User)
            .join(User, User.id == Playlist.owner_id)
            .where(Playlist.id == playlist_id, access)
        )
        row = (await self.session.execute(stmt)).one_or_none()
        return None if row is None else (row[0], row[1])

    async def owned_by_id(self, playlist_id: uuid.UUID, owner_id: uuid.UUID) -> Playlist | None:
        return await self.one_or_none(
            self.select().where(Playlist.id == playlist_id, Playlist.owner_id == owner_id)
        )

    async def lock(self, playlist: Playlist) -> bool:
        """Lock the playlist's row until the transaction ends and reload it; False when it
        is gone. Item changes of one playlist queue here, one after the other (on SQLite
        the write transaction itself already does)."""
        stmt = (
            self.select()
            .where(Playlist.id == playlist.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        return await self.one_or_none(stmt) is not None

    async def count_items(self, playlist: Playlist, delta: int) -> None:
        """Move the item count by `delta` (0 only marks the playlist as updated).

        The version stays: it guards the playlist's own fields, which did not change."""
        row = (
            await self.session.execute(
                update(Playlist)
                .where(Playlist.id == playlist.id)
                .values(item_count=Playlist.item_count + delta)
                .returning(Playlist.item_count, Playlist.updated_at)
                .execution_options(**_NOT_SYNCED)
            )
        ).one()
        attributes.set_committed_value(playlist, "item_count", row.item_count)
        attributes.set_committed_value(playlist, "updated_at", row.updated_at)


class PlaylistItemRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def content_ids(self, playlist_id: uuid.UUID) -> list[uuid.UUID]:
        """Every item's content, in position order (hidden and deleted content too)."""
        result = await self.session.scalars(
            select(PlaylistItem.content_id)
            .where(PlaylistItem.playlist_id == playlist_id)
            .order_by(PlaylistItem.position)
        )
        return list(result)

    async def contains(self, playlist_id: uuid.UUID, content_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(PlaylistItem.id).where(
                PlaylistItem.playlist_id == playlist_id, PlaylistItem.content_id == content_id
            )
        )
        return found is not None

    async def insert(self, playlist_id: uuid.UUID, content_id: uuid.UUID, position: int) -> None:
        await self.session.execute(
            insert(PlaylistItem).values(
                id=new_id(), playlist_id=playlist_id, content_id=content_id, position=position
            )
        )

    async def delete(self, playlist_id: uuid.UUID, content_id: uuid.UUID) -> int | None:
        """Delete the item; the position it had, or None when there was none."""
        position: int | None = await self.session.scalar(
            delete(PlaylistItem)
            .where(PlaylistItem.playlist_id == playlist_id, PlaylistItem.content_id == content_id)
            .returning(PlaylistItem.position)
            .execution_options(**_NOT_SYNCED)
        )
        return position

    async def shift(self, playlist_id: uuid.UUID, start: int, delta: int) -> None:
        """Move every item at `start` or after by `delta` places."""
        await self._park(playlist_id, PlaylistItem.position >= start)
        await self.session.execute(
            update(PlaylistItem)
            .where(PlaylistItem.playlist_id == playlist_id, PlaylistItem.position < 0)
            .values(position=-PlaylistItem.position - 1 + delta)
            .execution_options(**_NOT_SYNCED)
        )

    async def reorder(self, playlist_id: uuid.UUID, content_ids: Sequence[uuid.UUID]) -> None:
        """Put the items in this order; `content_ids` names each item exactly once."""
        await self._park(playlist_id)
        if not content_ids:
            return
        new_order = (
            values(column("content_id", Uuid()), column("position", Integer()), name="new_order")
            .data([(content_id, position) for position, content_id in enumerate(content_ids)])
            .cte("new_order")
        )
        await self.session.execute(
            update(PlaylistItem)
            .where(
                PlaylistItem.playlist_id == playlist_id,
                PlaylistItem.content_id == new_order.c.content_id,
            )
            .values(position=new_order.c.position)
            .execution_options(**_NOT_SYNCED)
        )

    async def _park(self, playlist_id: uuid.UUID, *where: ColumnElement[bool]) -> None:
        """Move the chosen items (all by default) to negative positions: -1 - position."""
        await self.session.execute(
            update(PlaylistItem)
            .where(PlaylistItem.playlist_id == playlist_id, *where)
            .values(position=-PlaylistItem.position - 1)
            .execution_options(**_NOT_SYNCED)
        )

    def visible_cards(self, playlist_id: uuid.UUID, viewer: Viewer) -> Select[Any]:
        """Cards of the items whose content this viewer may open, each with the item's own
        sort key (its position) beside it."""
        return (
            ContentRepository(self.session)
            .viewable_cards(viewer)
            .add_columns(*(key.column for key in BY_POSITION.keys))
            .join(PlaylistItem, PlaylistItem.content_id == Content.id)
            .where(PlaylistItem.playlist_id == playlist_id)
        )
