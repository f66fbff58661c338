"""The worker's renewal job: charge what is due, retry what failed, expire what ended.

Each subscription is handled in a transaction of its own, taken with a row lock that
other workers skip (PostgreSQL's SKIP LOCKED; SQLite's writers take turns), and its
state is what makes it due: once renewed, its period ends later and it is no longer
picked. Several workers may run the job at once; each due subscription is renewed
exactly once. A worker that dies after charging and before committing is harmless:
the charge's idempotency key is the subscription and the period it renews, so the
retry gets the first charge back from the provider instead of a second one.

- ACTIVE, period over: charge the tier's current price (the tier waiting in `next_tier`
  after a downgrade) for the next period. Declined: FAILED, retried every
  `renewal_retry_hours` until `renewal_grace_days` after the period ended, then
  EXPIRED. A tier no longer offered, or a creator no longer approved, ends it.
- CANCELED, period over: EXPIRED.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing import subscriptions
from dreamlust.billing.ledger import Payments, pay
from dreamlust.billing.periods import period_end
from dreamlust.billing.repository import SubscriptionRepository, TierRepository
from dreamlust.db import Database
from dreamlust.models import Creator, Subscription
from dreamlust.models.enums import (
    CreatorStatus,
    SubscriptionStatus,
    TransactionStatus,
    TransactionType,
)

logger = logging.getLogger(__name__)


def _due(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            Subscription.status.in_((SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELED)),
            Subscription.current_period_end <= now,
        ),
        and_(Subscription.status == SubscriptionStatus.FAILED, Subscription.retry_at <= now),
    )


async def run(database: Database, payments: Payments, now: datetime) -> int:
    """Handle every subscription due at `now`; how many were handled. One that fails
    (the provider unreachable …) is logged and left for the next run, after the rest."""
    handled = 0
    failed: list[uuid.UUID] = []
    while True:
        due = and_(_due(now), Subscription.id.not_in(failed)) if failed else _due(now)
        current: uuid.UUID | None = None
        try:
            async with database.transaction() as session:
                subscription = await SubscriptionRepository(session).next_due(due)
                if subscription is None:
                    return handled
                current = subscription.id
                await _handle(session, payments, subscription, now)
        except Exception:  # one subscription must not hold up the others
            if current is None:
                raise
            logger.exception("renewing subscription %s failed", current)
            failed.append(current)
            continue
        handled += 1


async def _handle(
    session: AsyncSession, payments: Payments, subscription: Subscription, now: datetime
) -> None:
    assert subscription.current_period_end is not None
    grace_ends = subscription.current_period_end + timedelta(
        days=payments.settings.renewal_grace_days
    )
    ended = subscription.status is SubscriptionStatus.CANCELED or not subscription.auto_renew
    out_of_grace = subscription.status is SubscriptionStatus.FAILED and now >= grace_ends
    if ended or out_of_grace:
        await _expire(session, subscription)
    else:
        await _charge(session, payments, subscription, now)
    await session.flush()


async def _expire(session: AsyncSession, subscription: Subscription) -> None:
    subscription.retry_at = None
    subscription.next_tier = None
    await subscriptions.set_status(session, subscription, SubscriptionStatus.EXPIRED)


async def _charge(
    session: AsyncSession, payments: Payments, subscription: Subscription, now: datetime
) -> None:
    creator = await session.get(Creator, subscription.creator_id)
    tier = await TierRepository(session).find(
        subscription.creator_id, subscription.next_tier or subscription.tier
    )
    if creator is None or creator.status is not CreatorStatus.APPROVED or tier is None:
        await _expire(session, subscription)
        return
    assert subscription.current_period_end is not None
    retrying = subscription.status is SubscriptionStatus.FAILED
    start = now if retrying else subscription.current_period_end
    if period_end(start, tier.interval) <= now:  # the worker was away for a whole period
        start = now
    end = period_end(start, tier.interval)
    attempt = f":{subscription.failed_attempts}" if retrying else ""
    transaction = await pay(
        session,
        payments,
        payer_id=subscription.subscriber_id,
        creator_id=subscription.creator_id,
        kind=TransactionType.SUBSCRIPTION,
        amount=tier.price,
        currency=tier.currency,
        method=subscription.payment_method or payments.check_method(None),
        key=f"renew:{subscription.id}:{subscription.current_period_end.isoformat()}{attempt}",
        keep_declined=True,
        subscription_id=subscription.id,
        period=(start, end),
        details={"tier": tier.tier.value, "renewal": True},
    )
    if transaction.status is TransactionStatus.FAILED:
        subscription.failed_attempts += 1
        subscription.retry_at = now + timedelta(hours=payments.settings.renewal_retry_hours)
        await subscriptions.set_status(session, subscription, SubscriptionStatus.FAILED)
        logger.info("renewal of subscription %s declined", subscription.id)
        return
    subscriptions.take_tier(subscription, tier)
    subscription.next_tier = None
    subscription.failed_attempts = 0
    subscription.retry_at = None
    subscription.current_period_end = end
    await subscriptions.set_status(session, subscription, SubscriptionStatus.ACTIVE)
