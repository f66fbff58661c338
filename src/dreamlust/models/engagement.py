"""Views, likes and comments: the engagement of viewers with content."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, text
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
    from dreamlust.models.users import User


class View(IdMixin, CreatedAtMixin, Base):
    """One counted view; anonymous viewers are known only by a keyed hash."""

    __tablename__ = "views"

    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    viewer_hash: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    watch_duration: Mapped[int | None]

    __table_args__ = (
        Index("ix_views_content_id_created_at", "content_id", "created_at"),
        Index("ix_views_created_at", "created_at"),
        Index("ix_views_user_id_created_at", "user_id", "created_at"),
        # What the dedup lookup of releases before view marks reads; to be dropped
        # (concurrently) in a revision of a later release.
        Index(
            "ix_views_content_id_viewer_hash_created_at", "content_id", "viewer_hash", "created_at"
        ),
    )


class ViewMark(Base):
    """When a viewer's view of an item was last counted, for views stored as they are
    recorded (without Redis): the dedup window runs from it. Its key makes the check and
    the mark one atomic upsert; marks older than the window are forgotten by the worker.

    `counted_at` has no index: the worker's job, run once a window, deletes about half of
    the table each time, which a scan of the table does best, and every view would have
    paid for the index (and a mark moved could not be updated in place)."""

    __tablename__ = "view_marks"

    content_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("content.id", ondelete="CASCADE"), primary_key=True
    )
    viewer_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    counted_at: Mapped[datetime]


class Like(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "likes"

    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    __table_args__ = (
        UniqueConstraint("content_id", "user_id"),
        Index("ix_likes_content_id_created_at", "content_id", "created_at"),
        Index("ix_likes_created_at", "created_at"),
        Index("ix_likes_user_id_created_at", "user_id", "created_at"),
    )


_TOP_LEVEL = text("parent_id IS NULL")
_PINNED = text("is_pinned")


class Comment(IdMixin, TimestampMixin, SoftDeleteMixin, VersionedMixin, Base):
    __tablename__ = "comments"

    content_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("content.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE")
    )
    text: Mapped[str | None] = mapped_column(Text)
    like_count: Mapped[int] = mapped_column(default=0, server_default="0")
    reply_count: Mapped[int] = mapped_column(default=0, server_default="0")
    is_edited: Mapped[bool] = mapped_column(default=False, server_default=false())
    is_pinned: Mapped[bool] = mapped_column(default=False, server_default=false())

    author: Mapped[User | None] = relationship(lazy="raise")
    parent: Mapped[Comment | None] = relationship(
        back_populates="replies", remote_side="Comment.id", lazy="raise"
    )
    replies: Mapped[list[Comment]] = relationship(
        back_populates="parent", lazy="raise", passive_deletes=True
    )

    __table_args__ = (
        Index("ix_comments_content_id_created_at", "content_id", "created_at"),
        Index("ix_comments_user_id_created_at", "user_id", "created_at"),
        # The lists' orderings after the columns they test for equality, ending with the
        # id, so every page of a thread comes out of an index in order.
        Index(
            "ix_comments_top_level_newest",
            "content_id",
            "is_pinned",
            "created_at",
            "id",
            postgresql_where=_TOP_LEVEL,
            sqlite_where=_TOP_LEVEL,
        ),
        Index(
            "ix_comments_top_level_top",
            "content_id",
            "is_pinned",
            "like_count",
            "created_at",
            "id",
            postgresql_where=_TOP_LEVEL,
            sqlite_where=_TOP_LEVEL,
        ),
        Index("ix_comments_parent_id_created_at_id", "parent_id", "created_at", "id"),
        # At most one pinned comment per item, whatever races the application loses.
        Index(
            "uq_comments_content_id_pinned",
            "content_id",
            unique=True,
            postgresql_where=_PINNED,
            sqlite_where=_PINNED,
        ),
    )
