"""The tiers a creator offers. A price change applies to the periods that start after
it: a subscription keeps the amount it paid until its next renewal, which charges the
tier's price of that day."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing.ledger import Payments
from dreamlust.billing.repository import TierRepository
from dreamlust.billing.schemas import TierSet
from dreamlust.content.entitlements import LEVELS
from dreamlust.errors import InvalidInput
from dreamlust.models import Creator, CreatorTier
from dreamlust.models.enums import SubscriptionTier


def level_of(tier: SubscriptionTier, chosen: int | None) -> int:
    if tier is SubscriptionTier.CUSTOM:
        return chosen or LEVELS[SubscriptionTier.BASIC]
    return LEVELS[tier]


async def offered(session: AsyncSession, creator: Creator) -> list[CreatorTier]:
    return await TierRepository(session).offered(creator.id)


async def offer(
    session: AsyncSession, payments: Payments, creator: Creator, offer: TierSet
) -> list[CreatorTier]:
    """Replace the creator's tiers with `offer`."""
    repository = TierRepository(session)
    for index, wanted in enumerate(offer.tiers):
        payments.check_amount(
            wanted.price, wanted.currency, field="price", at=("body", "tiers", str(index))
        )
    await repository.remove_others(creator.id, [wanted.tier.value for wanted in offer.tiers])
    for wanted in offer.tiers:
        values = {
            "name": wanted.name or wanted.tier.value.title(),
            "price": wanted.price,
            "currency": wanted.currency,
            "interval": wanted.interval,
            "level": level_of(wanted.tier, wanted.level),
            "benefits": list(wanted.benefits),
        }
        current = await repository.find(creator.id, wanted.tier)
        if current is None:
            await repository.add(CreatorTier(creator_id=creator.id, tier=wanted.tier, **values))
        else:
            await repository.update(current, values)
    return await repository.offered(creator.id)


async def chosen(session: AsyncSession, creator: Creator, tier: SubscriptionTier) -> CreatorTier:
    found = await TierRepository(session).find(creator.id, tier)
    if found is None:
        raise InvalidInput(
            f"This creator does not offer the {tier.value} tier.", loc=("body", "tier")
        )
    return found
