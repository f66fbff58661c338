"""Creator profiles, their categories and their followers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
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
from dreamlust.kit.types import enum_type
from dreamlust.models.enums import CreatorStatus

if TYPE_CHECKING:
    from dreamlust.models.content import Content
    from dreamlust.models.taxonomy import Category
    from dreamlust.models.users import User


creator_categories = Table(
    "creator_categories",
    Base.metadata,
    Column("creator_id", ForeignKey("creators.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "category_id",
        ForeignKey("categories.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class Creator(IdMixin, TimestampMixin, SoftDeleteMixin, VersionedMixin, Base):
    __tablename__ = "creators"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    display_name: Mapped[str] = mapped_column(String(100))
    handle: Mapped[str] = mapped_column(String(30))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    banner_url: Mapped[str | None] = mapped_column(String(2048))
    bio: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(100))
    website: Mapped[str | None] = mapped_column(String(2048))
    status: Mapped[CreatorStatus] = mapped_column(
        enum_type(CreatorStatus, "status"), default=CreatorStatus.PENDING, index=True
    )
    is_verified: Mapped[bool] = mapped_column(default=False, server_default=false())
    verified_at: Mapped[datetime | None]

    follower_count: Mapped[int] = mapped_column(default=0, server_default="0")
    subscriber_count: Mapped[int] = mapped_column(default=0, server_default="0")
    content_count: Mapped[int] = mapped_column(default=0, server_default="0")
    total_views: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    total_likes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    is_monetized: Mapped[bool] = mapped_column(default=False, server_default=false())
    payout_currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    tips_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())

    user: Mapped[User] = relationship(back_populates="creator", lazy="raise")
    contents: Mapped[list[Content]] = relationship(
        back_populates="creator", lazy="raise", passive_deletes=True
    )
    categories: Mapped[list[Category]] = relationship(
        secondary=creator_categories, lazy="raise", passive_deletes=True
    )

    __table_args__ = (
        Index("uq_creators_handle_lower", func.lower(handle), unique=True),
        # The public list's orderings, after the status it always tests (see Content).
        Index("ix_creators_status_follower_count_id", "status", "follower_count", "id"),
        Index("ix_creators_status_created_at_id", "status", "created_at", "id"),
    )


class Follow(IdMixin, CreatedAtMixin, Base):
    """A free follow of a creator by a user."""

    __tablename__ = "follows"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    creator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))

    __table_args__ = (
        UniqueConstraint("user_id", "creator_id"),
        Index("ix_follows_user_id_created_at", "user_id", "created_at"),
        Index("ix_follows_creator_id_created_at", "creator_id", "created_at"),
    )
