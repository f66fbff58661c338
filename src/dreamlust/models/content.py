"""Content items, their taxonomy joins, uploaded media assets and purchases."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dreamlust.kit.model import (
    Base,
    CreatedAtMixin,
    IdMixin,
    SoftDeleteMixin,
    TimestampMixin,
    VersionedMixin,
)
from dreamlust.kit.types import JSONDocument, Money, enum_type
from dreamlust.models.enums import (
    ContentStatus,
    ContentType,
    MediaAssetKind,
    MediaAssetStatus,
    SubscriptionTier,
    VRProjection,
    VRStereoFormat,
)

if TYPE_CHECKING:
    from dreamlust.models.creators import Creator
    from dreamlust.models.taxonomy import Category, Tag

content_categories = Table(
    "content_categories",
    Base.metadata,
    Column("content_id", ForeignKey("content.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "category_id",
        ForeignKey("categories.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

content_tags = Table(
    "content_tags",
    Base.metadata,
    Column("content_id", ForeignKey("content.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)

_LIVE = text("deleted_at IS NULL")


class Content(IdMixin, TimestampMixin, SoftDeleteMixin, VersionedMixin, Base):
    __tablename__ = "content"

    creator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[ContentType] = mapped_column(enum_type(ContentType, "type"), index=True)
    status: Mapped[ContentStatus] = mapped_column(
        enum_type(ContentStatus, "status"), default=ContentStatus.DRAFT, index=True
    )

    media_url: Mapped[str | None] = mapped_column(String(2048))
    thumbnail_url: Mapped[str | None] = mapped_column(String(2048))
    blur_placeholder: Mapped[str | None] = mapped_column(String(4096))
    media_type: Mapped[str | None] = mapped_column(String(100))
    duration: Mapped[int | None]
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    width: Mapped[int | None]
    height: Mapped[int | None]
    vr_projection: Mapped[VRProjection | None] = mapped_column(
        enum_type(VRProjection, "vr_projection")
    )
    vr_stereo_format: Mapped[VRStereoFormat | None] = mapped_column(
        enum_type(VRStereoFormat, "vr_stereo_format")
    )
    streaming_info: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)

    view_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    like_count: Mapped[int] = mapped_column(default=0, server_default="0")
    comment_count: Mapped[int] = mapped_column(default=0, server_default="0")
    share_count: Mapped[int] = mapped_column(default=0, server_default="0")
    trending_24h: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    trending_7d: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    trending_30d: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")

    is_public: Mapped[bool] = mapped_column(default=True, server_default=true())
    is_nsfw: Mapped[bool] = mapped_column(default=False, server_default=false())
    age_restricted: Mapped[bool] = mapped_column(default=False, server_default=false())
    allow_comments: Mapped[bool] = mapped_column(default=True, server_default=true())
    allow_downloads: Mapped[bool] = mapped_column(default=False, server_default=false())
    is_premium: Mapped[bool] = mapped_column(default=False, server_default=false())
    price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    # The lowest subscription tier whose subscribers play the premium item (BASIC,
    # PREMIUM or VIP; a CUSTOM tier includes the level its creator gave it).
    premium_tier: Mapped[SubscriptionTier] = mapped_column(
        enum_type(SubscriptionTier, "premium_tier"),
        default=SubscriptionTier.BASIC,
        server_default=SubscriptionTier.BASIC.value,
    )

    published_at: Mapped[datetime | None]
    scheduled_at: Mapped[datetime | None]

    creator: Mapped[Creator] = relationship(back_populates="contents", lazy="raise")
    categories: Mapped[list[Category]] = relationship(
        secondary=content_categories,
        lazy="raise",
        passive_deletes=True,
        order_by="(Category.sort_order, Category.name)",
    )
    tags: Mapped[list[Tag]] = relationship(
        secondary=content_tags, lazy="raise", passive_deletes=True, order_by="Tag.name"
    )

    __table_args__ = (
        # The lists' orderings, each after the columns its queries test for equality
        # (status; creator_id for one creator's content): the rows of a page come out of
        # the index in order, also on SQLite, whose planner, without statistics, would
        # rather look the status up and sort.
        Index(
            "ix_content_status_published_at_id",
            "status",
            "published_at",
            "id",
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        Index(
            "ix_content_status_view_count_id",
            "status",
            "view_count",
            "id",
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        Index(
            "ix_content_creator_id_status_published_at_id",
            "creator_id",
            "status",
            "published_at",
            "id",
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        Index(
            "ix_content_creator_id_status_view_count_id",
            "creator_id",
            "status",
            "view_count",
            "id",
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        Index(
            "ix_content_creator_id_created_at_id",
            "creator_id",
            "created_at",
            "id",
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        Index(
            "ix_content_status_trending_24h_id",
            "status",
            "trending_24h",
            "id",
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        Index(
            "ix_content_status_trending_7d_id",
            "status",
            "trending_7d",
            "id",
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        Index(
            "ix_content_status_trending_30d_id",
            "status",
            "trending_30d",
            "id",
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
        Index("ix_content_status_scheduled_at", "status", "scheduled_at"),
    )


class MediaAsset(IdMixin, TimestampMixin, Base):
    """A stored file: the media of a content item, its thumbnail, or a file derived from
    another asset (`source_id`: a poster, thumbnails). An upload is UPLOADING until its
    last byte, then PROCESSING until the worker makes it READY or FAILED (`failure`)."""

    __tablename__ = "media_assets"

    owner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    content_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("content.id", ondelete="CASCADE")
    )
    source_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("media_assets.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[MediaAssetKind] = mapped_column(enum_type(MediaAssetKind, "kind"))
    status: Mapped[MediaAssetStatus] = mapped_column(
        enum_type(MediaAssetStatus, "status"), default=MediaAssetStatus.READY
    )
    failure: Mapped[str | None] = mapped_column(String(500))
    storage_key: Mapped[str] = mapped_column(String(512), unique=True)
    original_filename: Mapped[str | None] = mapped_column(String(255))
    mime_type: Mapped[str | None] = mapped_column(String(100))
    file_size: Mapped[int] = mapped_column(BigInteger)
    upload_offset: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    upload_expires_at: Mapped[datetime | None]
    processing_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    lease_until: Mapped[datetime | None]
    checksum_sha256: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None]
    height: Mapped[int | None]
    duration: Mapped[int | None]
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)

    __table_args__ = (
        Index("ix_media_assets_content_id_created_at", "content_id", "created_at"),
        Index("ix_media_assets_status_created_at", "status", "created_at"),
    )


class ContentPurchase(IdMixin, CreatedAtMixin, Base):
    """The entitlement a buyer holds to a premium content item."""

    __tablename__ = "content_purchases"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    content_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("content.id", ondelete="CASCADE"), index=True
    )
    transaction_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="SET NULL"), index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))

    __table_args__ = (
        UniqueConstraint("user_id", "content_id"),
        Index("ix_content_purchases_user_id_created_at", "user_id", "created_at"),
    )
