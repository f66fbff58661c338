"""Categories (the curated list) and tags (counted by the content that uses them)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from dreamlust.seeding.catalog import CATEGORIES, TAGS, CategorySpec
from dreamlust.seeding.context import Row, SeedContext, slugify

_PLATFORM_AGE = timedelta(days=500)


@dataclass(frozen=True)
class SeedCategory:
    id: uuid.UUID
    spec: CategorySpec


@dataclass
class Taxonomy:
    categories: list[SeedCategory]
    tag_ids: list[uuid.UUID]
    tag_usage: dict[uuid.UUID, int] = field(default_factory=dict)

    @property
    def active_categories(self) -> list[SeedCategory]:
        return [category for category in self.categories if category.spec.is_active]

    def category(self, slug: str) -> SeedCategory:
        return next(category for category in self.categories if category.spec.slug == slug)

    def count_tag_use(self, tag_id: uuid.UUID) -> None:
        self.tag_usage[tag_id] = self.tag_usage.get(tag_id, 0) + 1


def build_taxonomy(ctx: SeedContext) -> Taxonomy:
    return Taxonomy(
        categories=[SeedCategory(ctx.new_id(), spec) for spec in CATEGORIES],
        tag_ids=[ctx.new_id() for _ in TAGS],
    )


def category_rows(ctx: SeedContext, taxonomy: Taxonomy) -> list[Row]:
    created_at = ctx.now - _PLATFORM_AGE
    return [
        {
            "id": category.id,
            "name": category.spec.name,
            "slug": category.spec.slug,
            "description": category.spec.description,
            "icon": category.spec.icon,
            "color": category.spec.color,
            "is_active": category.spec.is_active,
            "sort_order": position * 10,
            "created_at": created_at,
            "updated_at": created_at,
            "deleted_at": None,
        }
        for position, category in enumerate(taxonomy.categories)
    ]


def tag_rows(ctx: SeedContext, taxonomy: Taxonomy) -> list[Row]:
    return [
        {
            "id": tag_id,
            "name": name,
            "slug": slugify(name),
            "usage_count": taxonomy.tag_usage.get(tag_id, 0),
            "created_at": ctx.days_ago(500, 200),
        }
        for tag_id, name in zip(taxonomy.tag_ids, TAGS, strict=True)
    ]
