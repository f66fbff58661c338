"""Every query on creators."""

from __future__ import annotations

from sqlalchemy import func

from dreamlust.kit.repository import Repository
from dreamlust.models import Creator


class CreatorRepository(Repository[Creator]):
    model = Creator

    async def by_handle(self, handle: str) -> Creator | None:
        return await self.one_or_none(
            self.select().where(func.lower(Creator.handle) == handle.lower())
        )
