"""Categories (curated, soft-deletable) and tags (free-form, counted)."""

from __future__ import annotations

from sqlalchemy import Index, String, Text, text, true
from sqlalchemy.orm import Mapped, mapped_column

from dreamlust.kit.model import Base, CreatedAtMixin, IdMixin, SoftDeleteMixin, TimestampMixin

_LIVE = text("deleted_at IS NULL")


class Category(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "categories"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    icon: Mapped[str | None] = mapped_column(String(100))
    color: Mapped[str | None] = mapped_column(String(7))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    sort_order: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        Index(
            "ix_categories_sort_order_name",
            "sort_order",
            "name",
            postgresql_where=_LIVE,
            sqlite_where=_LIVE,
        ),
    )


# Byte-wise order on PostgreSQL, as SQLite has by default, so that a prefix is one exact
# range of the name index whatever the database's locale.
_TagName = String(50).with_variant(String(50, collation="C"), "postgresql")


class Tag(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(_TagName, unique=True)
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    usage_count: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (Index("ix_tags_usage_count_id", "usage_count", "id"),)
