"""Who may play the media of premium content: its buyers, the live subscribers of its
creator whose tier includes it, the creator and staff. Answered for a whole page in at
most two statements.

A subscription is live while it is ACTIVE or CANCELED (paid, not renewing) and its
period has not ended; it includes the items whose `premium_tier` is at or below its
level (`billing.tiers.LEVELS`)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.visibility import Viewer
from dreamlust.models import ContentPurchase, Subscription
from dreamlust.models.enums import SubscriptionStatus, SubscriptionTier

LIVE_SUBSCRIPTION = (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELED)
LEVELS = {SubscriptionTier.BASIC: 1, SubscriptionTier.PREMIUM: 2, SubscriptionTier.VIP: 3}
_HIGHEST = max(LEVELS.values())


class PremiumItem(NamedTuple):
    id: uuid.UUID
    creator_id: uuid.UUID
    owner_id: uuid.UUID  # the creator's user
    tier: SubscriptionTier


def _owns(owner_id: uuid.UUID, viewer: Viewer) -> bool:
    return viewer.user_id is not None and owner_id == viewer.user_id


def access(
    viewer: Viewer, *, is_nsfw: bool, is_premium: bool, owner_id: uuid.UUID, unlocked: bool
) -> tuple[bool, bool]:
    """(blurred, locked): whether this viewer gets the item behind its blur placeholder,
    and whether its media stay out of reach. Owners and staff get everything whole."""
    own = _owns(owner_id, viewer) or viewer.is_staff
    blurred = is_nsfw and viewer.blurs_nsfw and not own
    locked = is_premium and not (own or unlocked)
    return blurred, locked


async def unlocked(
    session: AsyncSession, viewer: Viewer, premium: Sequence[PremiumItem], now: datetime
) -> set[uuid.UUID]:
    """Ids of the `premium` items whose media this viewer may play."""
    if not premium or viewer.user_id is None:
        return set()
    if viewer.is_staff:
        return {item.id for item in premium}
    granted = {item.id for item in premium if _owns(item.owner_id, viewer)}
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
    levels: dict[uuid.UUID, int] = dict(
        (
            await session.execute(
                select(Subscription.creator_id, Subscription.level).where(
                    Subscription.subscriber_id == viewer.user_id,
                    Subscription.creator_id.in_({item.creator_id for item in others}),
                    Subscription.status.in_(LIVE_SUBSCRIPTION),
                    Subscription.current_period_end > now,
                )
            )
        ).all()
    )
    granted.update(
        item.id
        for item in others
        if levels.get(item.creator_id, 0) >= LEVELS.get(item.tier, _HIGHEST)
    )
    return granted
