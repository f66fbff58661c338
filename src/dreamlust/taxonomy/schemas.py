"""Request and response models of categories and tags."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictBool, StringConstraints

from dreamlust.kit.schemas import Input, LongText, Name, Patch, Schema, ShortText

Color = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=100)]
Icon = Annotated[ShortText, StringConstraints(max_length=100)]
SortOrder = Annotated[int, Field(strict=True, ge=-1_000_000, le=1_000_000)]


class CategoryRead(Schema):
    id: uuid.UUID
    name: str
    slug: str
    description: str | None
    icon: str | None
    color: str | None
    is_active: bool
    sort_order: int
    created_at: datetime
    updated_at: datetime


class CategoryCreate(Input):
    name: Name
    slug: Slug | None = None
    description: LongText | None = None
    icon: Icon | None = None
    color: Color | None = None
    is_active: StrictBool = True
    sort_order: SortOrder = 0


class CategoryUpdate(Patch):
    """Only the fields sent change; description, icon and color are cleared with null."""

    non_nullable = frozenset({"name", "slug", "is_active", "sort_order"})

    name: Name | None = None
    slug: Slug | None = None
    description: LongText | None = None
    icon: Icon | None = None
    color: Color | None = None
    is_active: StrictBool | None = None
    sort_order: SortOrder | None = None


class TagRead(Schema):
    id: uuid.UUID
    name: str
    slug: str
    usage_count: int
