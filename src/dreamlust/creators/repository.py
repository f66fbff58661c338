"""Every query on creators."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.repository import Repository
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import Category, Creator, creator_categories
from dreamlust.models.enums import CreatorStatus

POPULAR = Ordering(
    scope="creators:popular", keys=(SortKey(Creator.follower_count), SortKey(Creator.id))
)
NEWEST = Ordering(scope="creators:new", keys=(SortKey(Creator.created_at), SortKey(Creator.id)))
WITH_CATEGORIES = selectinload(Creator.categories)


class CreatorRepository(Repository[Creator]):
    model = Creator

    async def by_handle(self, handle: str) -> Creator | None:
        return await self.one_or_none(
            self.select()
            .where(func.lower(Creator.handle) == handle.lower())
            .options(WITH_CATEGORIES)
        )

    async def of_user(self, user_id: uuid.UUID, *, include_deleted: bool = False) -> Creator | None:
        stmt = self.select().where(Creator.user_id == user_id).options(WITH_CATEGORIES)
        if include_deleted:
            stmt = stmt.execution_options(**{INCLUDE_DELETED: True})
        return await self.one_or_none(stmt)

    async def handle_taken(self, handle: str) -> bool:
        stmt = (
            select(Creator.id)
            .where(func.lower(Creator.handle) == handle.lower())
            .execution_options(**{INCLUDE_DELETED: True})
        )
        return (await self.session.execute(stmt)).first() is not None

    def public_listing(self, *, category: str | None, verified: bool | None) -> Select[Creator]:
        stmt = (
            self.select().where(Creator.status == CreatorStatus.APPROVED).options(WITH_CATEGORIES)
        )
        if verified is not None:
            stmt = stmt.where(Creator.is_verified.is_(verified))
        if category is not None:
            stmt = stmt.where(
                Creator.id.in_(
                    select(creator_categories.c.creator_id)
                    .join(Category, Category.id == creator_categories.c.category_id)
                    .where(Category.slug == category)
                )
            )
        return stmt
