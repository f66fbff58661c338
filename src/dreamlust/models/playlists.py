"""Playlists: ordered collections of content owned by a user."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dreamlust.kit.model import (
    Base,
    CreatedAtMixin,
    IdMixin,
    SoftDeleteMixin,
    TimestampMixin,
    VersionedMixin,
)

if TYPE_CHECKING:
    from dreamlust.models.content import Content


class Playlist(IdMixin, TimestampMixin, SoftDeleteMixin, VersionedMixin, Base):
    __tablename__ = "playlists"

    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(default=False, server_default=false())
    item_count: Mapped[int] = mapped_column(default=0, server_default="0")

    items: Mapped[list[PlaylistItem]] = relationship(
        back_populates="playlist",
        lazy="raise",
        passive_deletes=True,
        order_by="PlaylistItem.position",
    )

    __table_args__ = (Index("ix_playlists_owner_id_created_at", "owner_id", "created_at"),)


class PlaylistItem(IdMixin, CreatedAtMixin, Base):
    """A content item at a dense, unique position (0, 1, 2, …) in its playlist."""

    __tablename__ = "playlist_items"

    playlist_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("playlists.id", ondelete="CASCADE"))
    content_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("content.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]

    playlist: Mapped[Playlist] = relationship(back_populates="items", lazy="raise")
    content: Mapped[Content] = relationship(lazy="raise")

    __table_args__ = (
        UniqueConstraint("playlist_id", "content_id"),
        UniqueConstraint("playlist_id", "position"),
    )
