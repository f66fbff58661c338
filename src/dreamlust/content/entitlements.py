"""Who may play the media of premium content: its buyers, active subscribers of its
creator, the creator and staff. Answered for a whole page in at most two statements."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.visibility import Viewer
from dreamlust.models import Content, ContentPurchase, Subscription
from dreamlust.models.enums import SubscriptionStatus


def _owns(content: Content, viewer: Viewer) -> bool:
    return viewer.user_id is not None and content.creator.user_id == viewer.user_id


async def unlocked(
    session: AsyncSession, viewer: Viewer, items: Sequence[Content], now: datetime
) -> set[uuid.UUID]:
    """Ids of the premium items among `items` whose media this viewer may play."""
    premium = [item for item in items if item.is_premium]
    if not premium or viewer.user_id is None:
        return set()
    if viewer.is_staff:
        return {item.id for item in premium}
    granted = {item.id for item in premium if _owns(item, viewer)}
    others = [item for item in premium if item.id not in granted]
    if not others:
        return granted
    bought = await session.scalars(
        select(ContentPurchase.content_id).where(
            ContentPurchase.user_id == viewer.user_id,
            ContentPurchase.content_id.in_([item.id for item in others]),
        )
    )
    granted.update(bought)
    subscribed = set(
        await session.scalars(
            select(Subscription.creator_id).where(
                Subscription.subscriber_id == viewer.user_id,
                Subscription.creator_id.in_({item.creator_id for item in others}),
                Subscription.status == SubscriptionStatus.ACTIVE,
                or_(
                    Subscription.current_period_end.is_(None),
                    Subscription.current_period_end > now,
                ),
            )
        )
    )
    granted.update(item.id for item in others if item.creator_id in subscribed)
    return granted


def is_owner(content: Content, viewer: Viewer) -> bool:
    return _owns(content, viewer)
