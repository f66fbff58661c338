"""The rules of subscriptions.

- Subscribing charges the tier's price for one period and makes the subscription ACTIVE
  until `current_period_end` (PENDING while the provider has not settled the charge).
  One row per (subscriber, creator): subscribing again after it ended renews that row,
  and every period paid stays in the ledger as a SUBSCRIPTION transaction.
- Upgrades (to a dearer tier) apply at once: the difference for the rest of the period
  is charged, prorated by the time left. Downgrades (to a tier that costs the same or
  less) apply at the end of the period already paid.
- Cancelling stops the renewal; access lasts until the period ends, then the worker
  expires the subscription. Resuming before then renews it again.
- Nobody subscribes to themselves; blocked accounts cannot sign in, so cannot pay.
- `subscriber_count` counts the live (ACTIVE or CANCELED) subscriptions: it moves by
  one whenever a subscription becomes live or stops being live, in the same
  transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing import notices, tiers
from dreamlust.billing.ledger import Payments, pay
from dreamlust.billing.periods import period_end, period_start
from dreamlust.billing.repository import (
    CENT,
    NEWEST_SUBSCRIPTIONS,
    SubscriptionRepository,
    lock_user,
)
from dreamlust.billing.schemas import SubscribeRequest, SubscriptionUpdate
from dreamlust.content.entitlements import LIVE_SUBSCRIPTION
from dreamlust.errors import Conflict, InvalidInput, NotFound
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.kit.repository import Repository, expect_version
from dreamlust.models import Creator, CreatorTier, Subscription, Transaction, User
from dreamlust.models.enums import (
    SubscriptionStatus,
    SubscriptionTier,
    TransactionStatus,
    TransactionType,
)


def is_live(status: SubscriptionStatus) -> bool:
    return status in LIVE_SUBSCRIPTION


async def set_status(
    session: AsyncSession, subscription: Subscription, status: SubscriptionStatus
) -> None:
    """Move the subscription to `status`, and the creator's subscriber count with it."""
    delta = int(is_live(status)) - int(is_live(subscription.status))
    subscription.status = status
    if delta:
        await SubscriptionRepository(session).count_on(subscription.creator_id, delta)


async def subscribe(
    session: AsyncSession,
    payments: Payments,
    subscriber: User,
    creator: Creator,
    request: SubscribeRequest,
    key: str,
) -> tuple[Subscription, Transaction]:
    if creator.user_id == subscriber.id:
        raise Conflict("You cannot subscribe to yourself.")
    tier = await tiers.chosen(session, creator, request.tier)
    method = payments.check_method(request.payment_method)
    await lock_user(session, subscriber.id)
    repository = SubscriptionRepository(session)
    subscription = await repository.of_pair(subscriber.id, creator.id)
    now = utcnow()
    if subscription is not None:
        if is_live(subscription.status) and _in_period(subscription, now):
            raise Conflict(
                "You are already subscribed; change the tier of that subscription instead."
            )
        if subscription.status is SubscriptionStatus.PENDING:
            raise Conflict("A payment for this subscription is still pending.")
    else:
        subscription = Subscription(
            subscriber_id=subscriber.id,
            creator_id=creator.id,
            status=SubscriptionStatus.EXPIRED,
        )
    take_tier(subscription, tier)
    subscription.payment_method = method
    subscription.auto_renew = True
    subscription.canceled_at = None
    subscription.next_tier = None
    subscription.failed_attempts = 0
    subscription.retry_at = None
    subscription.started_at = now
    subscription.current_period_end = period_end(now, tier.interval)
    session.add(subscription)
    await session.flush()
    transaction = await pay(
        session,
        payments,
        payer_id=subscriber.id,
        creator_id=creator.id,
        kind=TransactionType.SUBSCRIPTION,
        amount=tier.price,
        currency=tier.currency,
        method=method,
        key=f"subscribe:{subscriber.id}:{key}",
        subscription_id=subscription.id,
        period=(now, subscription.current_period_end),
        details={"tier": tier.tier.value},
    )
    settled = transaction.status is TransactionStatus.COMPLETED
    await set_status(
        session,
        subscription,
        SubscriptionStatus.ACTIVE if settled else SubscriptionStatus.PENDING,
    )
    await session.flush()
    if settled:
        await notices.payment_received(session, transaction)
    return subscription, transaction


def _in_period(subscription: Subscription, now: datetime) -> bool:
    return subscription.current_period_end is not None and subscription.current_period_end > now


def take_tier(subscription: Subscription, tier: CreatorTier) -> None:
    """The subscription is of `tier` at its price of now."""
    subscription.tier = tier.tier
    subscription.level = tier.level
    subscription.amount = tier.price
    subscription.currency = tier.currency
    subscription.interval = tier.interval


async def of_subscriber(
    session: AsyncSession, user: User, page: PageRequest, paginator: Paginator
) -> KeysetPage[Subscription]:
    """The user's subscriptions, newest first."""
    repository = SubscriptionRepository(session)
    stmt = repository.of_subscriber(user.id)
    return await repository.page(stmt, NEWEST_SUBSCRIPTIONS, page, paginator)


async def subscribers(
    session: AsyncSession, creator: Creator, page: PageRequest, paginator: Paginator
) -> KeysetPage[Row[Any]]:
    """The creator's live subscriptions, newest first, each with its subscriber's names."""
    stmt = SubscriptionRepository(session).of_creator(creator.id)
    return await Repository(session).page_rows(stmt, NEWEST_SUBSCRIPTIONS, page, paginator)


async def mine(
    session: AsyncSession, user: User, subscription_id: uuid.UUID, *, to_change: bool = True
) -> Subscription:
    """The user's subscription; 404 for anyone else's. One `to_change` is locked, after
    the user's row (the order every money request takes)."""
    repository = SubscriptionRepository(session)
    if to_change:
        await lock_user(session, user.id)
        subscription = await repository.locked(subscription_id)
    else:
        subscription = await repository.get(subscription_id)
    if subscription is None or subscription.subscriber_id != user.id:
        raise NotFound("No such subscription.")
    return subscription


async def cancel(session: AsyncSession, subscription: Subscription) -> Subscription:
    """Stop renewing; access lasts until the period ends. A failed subscription stops
    being retried and ends now."""
    if subscription.status is SubscriptionStatus.ACTIVE:
        subscription.auto_renew = False
        subscription.canceled_at = utcnow()
        subscription.next_tier = None
        await set_status(session, subscription, SubscriptionStatus.CANCELED)
    elif subscription.status is SubscriptionStatus.FAILED:
        subscription.auto_renew = False
        subscription.canceled_at = utcnow()
        subscription.retry_at = None
        await set_status(session, subscription, SubscriptionStatus.EXPIRED)
    elif subscription.status is SubscriptionStatus.PENDING:
        raise Conflict("A payment for this subscription is still pending.")
    await session.flush()
    return subscription


async def change(
    session: AsyncSession,
    payments: Payments,
    subscription: Subscription,
    changes: SubscriptionUpdate,
    *,
    expected_version: int,
) -> Subscription:
    expect_version(subscription, expected_version)
    if changes.payment_method is not None:
        subscription.payment_method = payments.check_method(changes.payment_method)
    if changes.auto_renew is not None:
        await _renewal(session, subscription, changes.auto_renew)
    if changes.tier is not None:
        await _change_tier(session, payments, subscription, changes)
    await session.flush()
    return subscription


async def _renewal(session: AsyncSession, subscription: Subscription, renew: bool) -> None:
    if renew == subscription.auto_renew:
        return
    if renew:
        if subscription.status is not SubscriptionStatus.CANCELED or not _in_period(
            subscription, utcnow()
        ):
            raise Conflict("Only a cancelled subscription still in its period can be resumed.")
        subscription.auto_renew = True
        subscription.canceled_at = None
        await set_status(session, subscription, SubscriptionStatus.ACTIVE)
    else:
        await cancel(session, subscription)


async def _change_tier(
    session: AsyncSession,
    payments: Payments,
    subscription: Subscription,
    changes: SubscriptionUpdate,
) -> None:
    assert changes.tier is not None
    if subscription.status is not SubscriptionStatus.ACTIVE:
        raise Conflict("Only an active subscription can change its tier.")
    creator = await session.get_one(Creator, subscription.creator_id)
    tier = await tiers.chosen(session, creator, changes.tier)
    if tier.tier == subscription.tier:
        subscription.next_tier = None
        return
    if tier.currency != subscription.currency or tier.interval != subscription.interval:
        raise InvalidInput(
            "A change of tier keeps the currency and billing interval; cancel and subscribe "
            "again to change them.",
            loc=("body", "tier"),
        )
    if tier.price <= subscription.amount:
        subscription.next_tier = tier.tier
        return
    now = utcnow()
    assert subscription.current_period_end is not None
    owed = _prorated(subscription, tier.price, now)
    if owed > 0:
        # A pending charge keeps the upgrade; if it fails, the provider's webhook puts
        # the tier it came from back (`billing.webhooks`).
        await pay(
            session,
            payments,
            payer_id=subscription.subscriber_id,
            creator_id=subscription.creator_id,
            kind=TransactionType.SUBSCRIPTION,
            amount=owed,
            currency=tier.currency,
            method=subscription.payment_method or payments.check_method(None),
            key=f"upgrade:{subscription.id}:{subscription.version}",
            subscription_id=subscription.id,
            period=(now, subscription.current_period_end),
            details={
                "tier": tier.tier.value,
                "upgrade_from": {
                    "tier": subscription.tier.value,
                    "level": subscription.level,
                    "amount": str(subscription.amount),
                },
            },
        )
    take_tier(subscription, tier)
    subscription.next_tier = None


def undo_upgrade(subscription: Subscription, upgraded_from: dict[str, Any]) -> None:
    """Put back the tier an upgrade whose charge failed came from."""
    subscription.tier = SubscriptionTier(upgraded_from["tier"])
    subscription.level = int(upgraded_from["level"])
    subscription.amount = Decimal(upgraded_from["amount"])


def _prorated(subscription: Subscription, price: Decimal, now: datetime) -> Decimal:
    """What an upgrade costs for the rest of the current period."""
    assert subscription.current_period_end is not None
    start = period_start(subscription.current_period_end, subscription.interval)
    whole = (subscription.current_period_end - start).total_seconds()
    left = max((subscription.current_period_end - now).total_seconds(), 0.0)
    share = Decimal(str(left)) / Decimal(str(whole)) if whole > 0 else Decimal(0)
    return ((price - subscription.amount) * share).quantize(CENT, rounding=ROUND_HALF_UP)
