"""Categories (curated, soft-deletable) and tags (free-form, counted)."""

from __future__ import annotations

from sqlalchemy import Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from dreamlust.kit.model import Base, CreatedAtMixin, IdMixin, SoftDeleteMixin, TimestampMixin


class Category(IdMixin, TimestampMixin, SoftDeleteMixin, Base):
    __tablename__ = "categories"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    icon: Mapped[str | None] = mapped_column(String(100))
    color: Mapped[str | None] = mapped_column(String(7))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    sort_order: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (Index("ix_categories_sort_order_name", "sort_order", "name"),)


class Tag(IdMixin, CreatedAtMixin, Base):
    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(String(50), unique=True)
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    usage_count: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (Index("ix_tags_usage_count_id", "usage_count", "id"),)
