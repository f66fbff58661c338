"""Content objects as a given viewer may see them: blurred, locked or whole.

For items already loaded as ORM objects (what a write just changed, what another domain
lists); content lists and detail read straight into cards (`content/cards.py`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.cards import COLUMN_FIELDS, withhold
from dreamlust.content.entitlements import PremiumItem, access, unlocked
from dreamlust.content.schemas import ContentRead
from dreamlust.content.visibility import Viewer
from dreamlust.creators.schemas import CategoryRef, CreatorSummary
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import KeysetPage
from dreamlust.kit.schemas import Page
from dreamlust.models import Content


def present(content: Content, viewer: Viewer, *, unlocked: bool) -> ContentRead:
    blurred, locked = access(
        viewer,
        is_nsfw=content.is_nsfw,
        is_premium=content.is_premium,
        owner_id=content.creator.user_id,
        unlocked=unlocked,
    )
    item: dict[str, Any] = {name: getattr(content, name) for name in COLUMN_FIELDS}
    item["creator"] = CreatorSummary.model_validate(content.creator)
    item["categories"] = [CategoryRef.model_validate(category) for category in content.categories]
    item["tags"] = [tag.name for tag in content.tags]
    withhold(item, blurred=blurred, locked=locked)
    return ContentRead.model_validate(item)


def _premium(items: list[Content]) -> list[PremiumItem]:
    return [
        PremiumItem(item.id, item.creator_id, item.creator.user_id, item.premium_tier)
        for item in items
        if item.is_premium
    ]


async def present_one(session: AsyncSession, content: Content, viewer: Viewer) -> ContentRead:
    granted = await unlocked(session, viewer, _premium([content]), utcnow())
    return present(content, viewer, unlocked=content.id in granted)


async def present_page(
    session: AsyncSession, page: KeysetPage[Content], viewer: Viewer
) -> Page[ContentRead]:
    granted = await unlocked(session, viewer, _premium(page.items), utcnow())
    return Page[ContentRead](
        items=[present(item, viewer, unlocked=item.id in granted) for item in page.items],
        next_cursor=page.next_cursor,
    )
