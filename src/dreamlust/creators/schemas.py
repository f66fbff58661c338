"""Request and response models of creator profiles."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, Field, StrictBool, StringConstraints

from dreamlust.kit.schemas import (
    Input,
    LongText,
    Name,
    Patch,
    Schema,
    ShortText,
    SingleLine,
    Url,
)
from dreamlust.models.enums import ContentStatus, ContentType, CreatorStatus

RESERVED_HANDLES = frozenset(
    {
        "admin",
        "administrator",
        "api",
        "me",
        "creators",
        "creator",
        "settings",
        "support",
        "help",
        "about",
        "dreamlust",
        "moderator",
        "staff",
        "system",
        "root",
        "login",
        "logout",
        "register",
        "search",
        "trending",
        "new",
        "popular",
        "null",
        "undefined",
        "official",
    }
)
MAX_CREATOR_CATEGORIES = 5


def _canonical_handle(handle: str) -> str:
    lowered = handle.lower()
    if lowered in RESERVED_HANDLES:
        raise ValueError("this handle is reserved")
    return lowered


Handle = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9_]{3,30}$"), AfterValidator(_canonical_handle)
]
HandlePath = Annotated[str, Path(max_length=30), SingleLine]
CategorySlugs = Annotated[
    list[Annotated[str, StringConstraints(max_length=100)]],
    Field(max_length=MAX_CREATOR_CATEGORIES),
]


class CategoryRef(Schema):
    slug: str
    name: str


class CreatorSummary(Schema):
    """How a creator appears next to their content."""

    id: uuid.UUID
    handle: str
    display_name: str
    avatar_url: str | None
    is_verified: bool


class CreatorRead(CreatorSummary):
    banner_url: str | None
    bio: str | None
    location: str | None
    website: str | None
    status: CreatorStatus
    verified_at: datetime | None
    follower_count: int
    subscriber_count: int
    content_count: int
    total_views: int
    total_likes: int
    tips_enabled: bool
    payout_currency: str
    categories: list[CategoryRef]
    created_at: datetime
    version: int


class CreatorCreate(Input):
    display_name: Name
    handle: Handle
    bio: LongText | None = None
    location: ShortText | None = None
    website: Url | None = None
    avatar_url: Url | None = None
    banner_url: Url | None = None
    categories: CategorySlugs = []


class CreatorUpdate(Patch):
    non_nullable = frozenset({"display_name", "tips_enabled", "categories"})

    display_name: Name | None = None
    bio: LongText | None = None
    location: ShortText | None = None
    website: Url | None = None
    avatar_url: Url | None = None
    banner_url: Url | None = None
    tips_enabled: StrictBool | None = None
    categories: CategorySlugs | None = None
    version: Annotated[int, Field(strict=True, ge=1)] | None = None


class StaffDecision(Input):
    reason: LongText | None = None


class ContentByStatus(Schema):
    """A creator's live content items in each state; `scheduled` are drafts with a
    publish time, `drafts` the others."""

    published: int
    scheduled: int
    drafts: int
    pending_review: int
    rejected: int
    archived: int


class CreatorStatistics(Schema):
    """A creator's audience and catalogue, counted from the rows (`creator_statistics`)."""

    follower_count: int
    subscriber_count: int
    content: ContentByStatus
    view_count: int
    watch_seconds: int
    like_count: int
    comment_count: int


class ContentEngagement(Schema):
    """One of the creator's items and its engagement (`content_engagement`)."""

    id: uuid.UUID
    title: str
    type: ContentType
    status: ContentStatus
    created_at: datetime
    published_at: datetime | None
    view_count: int
    unique_viewers: int
    watch_seconds: int
    like_count: int
    comment_count: int
    playlist_count: int
