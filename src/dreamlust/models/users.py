"""Accounts and the tokens that belong to them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, false, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dreamlust.kit.model import (
    Base,
    CreatedAtMixin,
    IdMixin,
    SoftDeleteMixin,
    TimestampMixin,
    VersionedMixin,
)
from dreamlust.kit.types import JSONDocument, enum_type
from dreamlust.models.enums import EmailTokenPurpose, UserRole, UserStatus

if TYPE_CHECKING:
    from dreamlust.models.creators import Creator


class User(IdMixin, TimestampMixin, SoftDeleteMixin, VersionedMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(320))
    username: Mapped[str] = mapped_column(String(30))
    password_hash: Mapped[str] = mapped_column(String(255))
    email_verified: Mapped[bool] = mapped_column(default=False, server_default=false())
    email_verified_at: Mapped[datetime | None]
    display_name: Mapped[str | None] = mapped_column(String(100))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    bio: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(100))
    website: Mapped[str | None] = mapped_column(String(2048))
    birth_date: Mapped[date | None]
    role: Mapped[UserRole] = mapped_column(
        enum_type(UserRole, "role"), default=UserRole.USER, index=True
    )
    status: Mapped[UserStatus] = mapped_column(
        enum_type(UserStatus, "status"), default=UserStatus.ACTIVE, index=True
    )
    is_creator: Mapped[bool] = mapped_column(default=False, server_default=false())
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    last_login_at: Mapped[datetime | None]
    # Access tokens issued before this moment are refused (see dreamlust.access_tokens).
    tokens_valid_after: Mapped[datetime | None]

    creator: Mapped[Creator | None] = relationship(
        back_populates="user", lazy="raise", uselist=False, passive_deletes=True
    )

    __table_args__ = (
        Index("uq_users_email_lower", func.lower(email), unique=True),
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("ix_users_created_at_id", "created_at", "id"),
    )


class RefreshToken(IdMixin, CreatedAtMixin, Base):
    """An opaque refresh token, stored only as a hash; rotation chains form a family."""

    __tablename__ = "refresh_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(512))

    __table_args__ = (Index("ix_refresh_tokens_user_id_created_at", "user_id", "created_at"),)


class EmailToken(IdMixin, CreatedAtMixin, Base):
    """A single-use e-mail verification or password reset token, hashed at rest."""

    __tablename__ = "email_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[EmailTokenPurpose] = mapped_column(enum_type(EmailTokenPurpose, "purpose"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_email_tokens_user_id_created_at", "user_id", "created_at"),)
