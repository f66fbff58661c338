"""Request and response models of playlists and their items."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictBool

from dreamlust.content.schemas import ContentRead
from dreamlust.kit.schemas import Input, LongText, Name, Patch, Schema
from dreamlust.models import Playlist, User

MAX_ITEMS = 5000


class PlaylistCreate(Input):
    name: Name
    description: LongText | None = None
    is_public: StrictBool = False


class PlaylistUpdate(Patch):
    non_nullable = frozenset({"name", "is_public", "version"})

    name: Name | None = None
    description: LongText | None = None
    is_public: StrictBool | None = None
    version: Annotated[int, Field(strict=True, ge=1)] | None = None


class ItemAdd(Input):
    content_id: uuid.UUID
    position: Annotated[int, Field(strict=True, ge=0, le=MAX_ITEMS)] | None = Field(
        default=None, description="0-based; the item there and those after it move down one."
    )


class ItemOrder(Input):
    content_ids: Annotated[list[uuid.UUID], Field(max_length=MAX_ITEMS)] = Field(
        description="Every item of the playlist, once each, in the new order."
    )


class OwnerRef(Schema):
    id: uuid.UUID
    username: str


class PlaylistRead(Schema):
    id: uuid.UUID
    owner: OwnerRef
    name: str
    description: str | None
    is_public: StrictBool
    item_count: int
    created_at: datetime
    updated_at: datetime
    version: int

    @classmethod
    def of(cls, playlist: Playlist, owner: User) -> PlaylistRead:
        return cls(
            id=playlist.id,
            owner=OwnerRef.model_validate(owner),
            name=playlist.name,
            description=playlist.description,
            is_public=playlist.is_public,
            item_count=playlist.item_count,
            created_at=playlist.created_at,
            updated_at=playlist.updated_at,
            version=playlist.version,
        )


class ItemRead(Schema):
    position: int
    content: ContentRead
