"""Every query on categories and tags."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Select, select, update

from dreamlust.kit.ids import new_id
from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.repository import Repository
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.kit.upsert import insert_or_ignore
from dreamlust.models import Category, Tag, content_tags

CATEGORY_ORDER = Ordering(
    scope="categories:order",
    keys=(SortKey(Category.sort_order, descending=False), SortKey(Category.name, descending=False)),
)
TAGS_BY_NAME = Ordering(scope="tags:name", keys=(SortKey(Tag.name, descending=False),))
TAGS_BY_POPULARITY = Ordering(
    scope="tags:popular", keys=(SortKey(Tag.usage_count), SortKey(Tag.id))
)


class CategoryRepository(Repository[Category]):
    model = Category

    async def by_slug(self, slug: str, *, include_deleted: bool = False) -> Category | None:
        stmt = self.select().where(Category.slug == slug)
        if include_deleted:
            stmt = stmt.execution_options(**{INCLUDE_DELETED: True})
        return await self.one_or_none(stmt)

    async def by_slugs(self, slugs: Iterable[str]) -> list[Category]:
        wanted = set(slugs)
        if not wanted:
            return []
        return await self.all(
            self.select().where(Category.slug.in_(wanted), Category.is_active.is_(True))
        )

    def listing(self, *, include_inactive: bool) -> Select[Category]:
        stmt = self.select()
        return stmt if include_inactive else stmt.where(Category.is_active.is_(True))


def _prefix_upper_bound(prefix: str) -> str:
    """The smallest string greater than every string starting with `prefix`."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


class TagRepository(Repository[Tag]):
    model = Tag

    def listing(self, prefix: str | None) -> Select[Tag]:
        """Tags, optionally those whose name starts with `prefix`: a range scan on the name
        index (tag names are stored with byte-wise collation, so the range is exact)."""
        stmt = self.select()
        if prefix:
            stmt = stmt.where(Tag.name >= prefix, Tag.name < _prefix_upper_bound(prefix))
        return stmt

    async def ensure(self, names: Iterable[str]) -> list[Tag]:
        """The tags with these (normalized) names, created on first use.

        Concurrent requests may create the same tag: the insert skips names that exist,
        so neither fails.
        """
        wanted = sorted(set(names))
        if not wanted:
            return []
        rows = [{"id": new_id(), "name": name, "slug": name} for name in wanted]
        await self.session.execute(insert_or_ignore(self.session, Tag).values(rows))
        return await self.all(self.select().where(Tag.name.in_(wanted)))

    async def ids_of_content(self, content_id: uuid.UUID) -> list[uuid.UUID]:
        rows = await self.session.scalars(
            select(content_tags.c.tag_id).where(content_tags.c.content_id == content_id)
        )
        return list(rows)

    async def change_usage(self, tag_ids: Iterable[uuid.UUID], delta: int) -> None:
        ids = list(tag_ids)
        if ids and delta:
            await self.session.execute(
                update(Tag).where(Tag.id.in_(ids)).values(usage_count=Tag.usage_count + delta)
            )
