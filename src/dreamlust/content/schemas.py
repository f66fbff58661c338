"""Request and response models of content items."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal, Self

from pydantic import AwareDatetime, Field, StrictBool, StringConstraints, model_validator

from dreamlust.creators.schemas import CategoryRef, CreatorSummary
from dreamlust.kit.schemas import Currency, Input, LongText, Patch, Price, Schema, SingleLine, Url
from dreamlust.models.enums import (
    ContentStatus,
    ContentType,
    SubscriptionTier,
    VRProjection,
    VRStereoFormat,
)

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SingleLine
]
TagName = Annotated[str, StringConstraints(min_length=1, max_length=50), SingleLine]
MediaType = Annotated[str, StringConstraints(pattern=r"^[a-z]+/[a-z0-9.+-]+$", max_length=100)]
Seconds = Annotated[int, Field(strict=True, ge=1, le=7 * 24 * 3600)]
Pixels = Annotated[int, Field(strict=True, ge=1, le=65_536)]
Bytes = Annotated[int, Field(strict=True, ge=0, le=2**62)]

# Which media metadata each type may carry, and what it needs before it is published.
_ALLOWED = {
    ContentType.VIDEO: {"duration", "width", "height"},
    ContentType.AUDIO: {"duration"},
    ContentType.PHOTO: {"width", "height"},
    ContentType.VR: {"duration", "width", "height", "vr_projection", "vr_stereo_format"},
    ContentType.LIVE_STREAM: {"width", "height"},
}
REQUIRED_TO_PUBLISH = {
    ContentType.VIDEO: ("media_url", "duration"),
    ContentType.AUDIO: ("media_url", "duration"),
    ContentType.PHOTO: ("media_url", "width", "height"),
    ContentType.VR: ("media_url", "vr_projection", "vr_stereo_format"),
    ContentType.LIVE_STREAM: ("media_url",),
}
TYPE_SPECIFIC = frozenset().union(*_ALLOWED.values())


def type_metadata_problems(content_type: ContentType, values: dict[str, Any]) -> list[str]:
    """Fields set that this type of content cannot have."""
    allowed = _ALLOWED[content_type]
    return sorted(name for name in TYPE_SPECIFIC - allowed if values.get(name) is not None)


# The lowest tier whose subscribers play a premium item (a CUSTOM tier includes the
# level its creator chose).
PremiumTier = Literal[SubscriptionTier.BASIC, SubscriptionTier.PREMIUM, SubscriptionTier.VIP]


class ContentFields(Patch):
    """What a creator may set on content, shared by create and update."""

    non_nullable = frozenset(
        {
            "title",
            "is_public",
            "is_nsfw",
            "age_restricted",
            "allow_comments",
            "allow_downloads",
            "is_premium",
            "premium_tier",
        }
    )

    description: LongText | None = None
    categories: (
        Annotated[list[Annotated[str, StringConstraints(max_length=100)]], Field(max_length=5)]
        | None
    ) = None
    tags: Annotated[list[TagName], Field(max_length=20)] | None = None
    media_url: Url | None = None
    thumbnail_url: Url | None = None
    media_type: MediaType | None = None
    duration: Seconds | None = None
    file_size: Bytes | None = None
    width: Pixels | None = None
    height: Pixels | None = None
    vr_projection: VRProjection | None = None
    vr_stereo_format: VRStereoFormat | None = None
    is_public: StrictBool | None = None
    is_nsfw: StrictBool | None = None
    age_restricted: StrictBool | None = None
    allow_comments: StrictBool | None = None
    allow_downloads: StrictBool | None = None
    is_premium: StrictBool | None = None
    price: Price | None = None
    currency: Currency | None = None
    premium_tier: PremiumTier | None = None
    scheduled_at: AwareDatetime | None = None


class ContentCreate(ContentFields):
    title: Title
    type: ContentType

    @model_validator(mode="after")
    def _fits_its_type(self) -> Self:
        problems = type_metadata_problems(self.type, self.model_dump())
        if problems:
            raise ValueError(f"{self.type.value} content cannot have: {', '.join(problems)}")
        return self


class ContentUpdate(ContentFields):
    title: Title | None = None
    version: Annotated[int, Field(strict=True, ge=1)] | None = None


class ContentRead(Schema):
    id: uuid.UUID
    title: str
    description: str | None
    type: ContentType
    status: ContentStatus
    creator: CreatorSummary
    categories: list[CategoryRef]
    tags: list[str]
    media_url: str | None
    thumbnail_url: str | None
    blur_placeholder: str | None
    media_type: str | None
    duration: int | None
    file_size: int | None
    width: int | None
    height: int | None
    vr_projection: VRProjection | None
    vr_stereo_format: VRStereoFormat | None
    streaming_info: dict[str, Any] | None
    view_count: int
    like_count: int
    comment_count: int
    share_count: int
    is_public: bool
    is_nsfw: bool
    age_restricted: bool
    allow_comments: bool
    allow_downloads: bool
    is_premium: bool
    price: Decimal | None
    currency: str | None
    premium_tier: SubscriptionTier
    published_at: datetime | None
    scheduled_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int
    is_blurred: bool
    is_locked: bool


class ReviewDecision(Input):
    decision: Literal["approve", "reject"]
    reason: LongText | None = None
