"""Money: tiers, subscriptions with their payment history, tips and premium purchases.

The demo ledger follows the live rules: every inflow carries the platform's fee (at
the default rate), every subscription payment the period it paid for, and every
creator's `subscriber_count` counts the live (ACTIVE or CANCELED) subscriptions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any

from dreamlust.billing.ledger import platform_fee
from dreamlust.billing.periods import period_end
from dreamlust.config import Settings
from dreamlust.content.entitlements import LEVELS, LIVE_SUBSCRIPTION
from dreamlust.models.enums import (
    BillingInterval,
    SubscriptionStatus,
    SubscriptionTier,
    TransactionStatus,
    TransactionType,
)
from dreamlust.seeding.catalog import TIER_BENEFITS, TIP_AMOUNTS, TIP_MESSAGES
from dreamlust.seeding.content import PlannedContent
from dreamlust.seeding.context import Row, SeedContext
from dreamlust.seeding.people import Community, CreatorProfile, Person

PROVIDER = "demo"
_TIERS = (SubscriptionTier.BASIC, SubscriptionTier.PREMIUM, SubscriptionTier.VIP)
_TIER_WEIGHTS = (60, 30, 10)
_STATUSES = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.CANCELED,
    SubscriptionStatus.EXPIRED,
    SubscriptionStatus.PENDING,
    SubscriptionStatus.FAILED,
)
_STATUS_WEIGHTS = (72, 12, 10, 3, 3)
_MONTHS_PAID_PER_YEAR = Decimal(10)
_FEE_BPS: int = Settings.model_fields["platform_fee_bps"].default


@dataclass
class SeedSubscription:
    id: uuid.UUID
    subscriber: Person
    creator: CreatorProfile
    tier: SubscriptionTier
    status: SubscriptionStatus
    interval: BillingInterval
    amount: Decimal
    created_at: datetime
    started_at: datetime | None = None
    current_period_end: datetime | None = None
    canceled_at: datetime | None = None
    payments: list[tuple[datetime, TransactionStatus]] = field(default_factory=list)

    @property
    def updated_at(self) -> datetime:
        moments = [self.created_at, *(moment for moment, _ in self.payments)]
        if self.canceled_at is not None:
            moments.append(self.canceled_at)
        return max(moments)


@dataclass(frozen=True)
class SeedTip:
    tipper: Person
    creator: CreatorProfile
    amount: Decimal
    message: str
    created_at: datetime


@dataclass
class Ledger:
    subscriptions: list[SeedSubscription] = field(default_factory=list)
    tips: list[SeedTip] = field(default_factory=list)


def build_ledger(ctx: SeedContext, community: Community) -> Ledger:
    """Subscriptions and tips of adult accounts; counts active subscribers on each creator."""
    ledger = Ledger()
    monetized = [creator for creator in community.creators if creator.monetized]
    if not monetized:
        return ledger
    cum_weights = list(accumulate(creator.popularity for creator in monetized))
    tippable = [creator for creator in monetized if creator.tips_enabled]
    for person in community.adults:
        if ctx.chance(0.3):
            for creator in ctx.pick_weighted(monetized, cum_weights, ctx.rng.randint(1, 3)):
                if creator.user.id != person.id:
                    ledger.subscriptions.append(_subscription(ctx, person, creator))
        if tippable and ctx.chance(0.12):
            creator = ctx.rng.choice(tippable)
            if creator.user.id != person.id:
                start = max(person.created_at, creator.created_at)
                ledger.tips.append(
                    SeedTip(
                        tipper=person,
                        creator=creator,
                        amount=ctx.rng.choice(TIP_AMOUNTS),
                        message=ctx.rng.choice(TIP_MESSAGES),
                        created_at=ctx.between(start, ctx.now),
                    )
                )
    for subscription in ledger.subscriptions:
        if subscription.status in LIVE_SUBSCRIPTION:
            subscription.creator.subscribers += 1
    return ledger


def tier_rows(ctx: SeedContext, community: Community) -> list[Row]:
    """The three monthly tiers of every monetized creator."""
    return [
        {
            "id": ctx.new_id(),
            "creator_id": creator.id,
            "tier": tier,
            "name": tier.value.title(),
            "price": price,
            "currency": creator.currency,
            "interval": BillingInterval.MONTH,
            "level": LEVELS[tier],
            "benefits": list(TIER_BENEFITS[index]),
            "created_at": creator.created_at,
            "updated_at": creator.created_at,
        }
        for creator in community.creators
        if creator.prices is not None
        for index, (tier, price) in enumerate(zip(_TIERS, creator.prices, strict=True))
    ]


def _periods_after(start: datetime, interval: BillingInterval, count: int) -> list[datetime]:
    moments = [start]
    for _ in range(count):
        moments.append(period_end(moments[-1], interval))
    return moments


def _subscription(ctx: SeedContext, person: Person, creator: CreatorProfile) -> SeedSubscription:
    rng = ctx.rng
    assert creator.prices is not None
    tier = rng.choices(_TIERS, _TIER_WEIGHTS)[0]
    monthly = creator.prices[_TIERS.index(tier)]
    interval = BillingInterval.YEAR if rng.random() < 0.1 else BillingInterval.MONTH
    amount = monthly * _MONTHS_PAID_PER_YEAR if interval is BillingInterval.YEAR else monthly
    status = rng.choices(_STATUSES, _STATUS_WEIGHTS)[0]
    earliest = max(person.created_at, creator.created_at) + timedelta(hours=1)
    period = timedelta(days=366 if interval is BillingInterval.YEAR else 31)
    periods_paid = rng.randint(1, 3)
    latest_expired_start = ctx.now - period * periods_paid - timedelta(days=1)
    if status is SubscriptionStatus.EXPIRED and latest_expired_start <= earliest:
        status = SubscriptionStatus.ACTIVE
    subscription = SeedSubscription(
        id=ctx.new_id(),
        subscriber=person,
        creator=creator,
        tier=tier,
        status=status,
        interval=interval,
        amount=amount,
        created_at=earliest,
    )
    if status in (SubscriptionStatus.PENDING, SubscriptionStatus.FAILED):
        subscription.created_at = ctx.between(earliest, ctx.now)
        outcome = (
            TransactionStatus.PENDING
            if status is SubscriptionStatus.PENDING
            else TransactionStatus.FAILED
        )
        subscription.payments.append((subscription.created_at, outcome))
        return subscription
    if status is SubscriptionStatus.EXPIRED:
        started = ctx.between(earliest, latest_expired_start)
        bounds = _periods_after(started, interval, periods_paid)
    else:
        started = ctx.between(earliest, ctx.now - timedelta(hours=1))
        bounds = [started]
        while bounds[-1] <= ctx.now:
            bounds.append(period_end(bounds[-1], interval))
    subscription.created_at = subscription.started_at = started
    subscription.current_period_end = bounds[-1]
    subscription.payments = [(moment, TransactionStatus.COMPLETED) for moment in bounds[:-1]]
    if status is SubscriptionStatus.CANCELED:
        subscription.canceled_at = ctx.between(subscription.payments[-1][0], ctx.now)
    elif status is SubscriptionStatus.EXPIRED:
        if rng.random() < 0.5:
            subscription.canceled_at = ctx.between(
                subscription.payments[-1][0], subscription.current_period_end
            )
        else:
            subscription.payments.append(
                (subscription.current_period_end, TransactionStatus.FAILED)
            )
    return subscription


def subscription_rows(ledger: Ledger) -> list[Row]:
    return [
        {
            "id": subscription.id,
            "subscriber_id": subscription.subscriber.id,
            "creator_id": subscription.creator.id,
            "tier": subscription.tier,
            "level": LEVELS[subscription.tier],
            "status": subscription.status,
            "amount": subscription.amount,
            "currency": subscription.creator.currency,
            "interval": subscription.interval,
            "auto_renew": subscription.status is SubscriptionStatus.ACTIVE,
            "started_at": subscription.started_at,
            "current_period_end": subscription.current_period_end,
            "canceled_at": subscription.canceled_at,
            "next_tier": None,
            "payment_method": None,
            "failed_attempts": int(subscription.status is SubscriptionStatus.FAILED),
            "retry_at": None,
            "created_at": subscription.created_at,
            "updated_at": subscription.updated_at,
            "version": 1,
        }
        for subscription in ledger.subscriptions
    ]


def ledger_transaction_rows(ctx: SeedContext, ledger: Ledger) -> list[Row]:
    """One transaction per subscription payment attempt, and one per tip."""
    rows = [
        transaction_row(
            ctx,
            payer=subscription.subscriber,
            creator=subscription.creator,
            kind=TransactionType.SUBSCRIPTION,
            status=status,
            amount=subscription.amount,
            at=moment,
            subscription_id=subscription.id,
            period=(moment, period_end(moment, subscription.interval)),
            details={"tier": subscription.tier.value, "interval": subscription.interval.value},
        )
        for subscription in ledger.subscriptions
        for moment, status in subscription.payments
    ]
    rows.extend(
        transaction_row(
            ctx,
            payer=tip.tipper,
            creator=tip.creator,
            kind=TransactionType.TIP,
            status=TransactionStatus.COMPLETED,
            amount=tip.amount,
            at=tip.created_at,
            details={"message": tip.message},
        )
        for tip in ledger.tips
    )
    return rows


def transaction_row(
    ctx: SeedContext,
    *,
    payer: Person,
    creator: CreatorProfile,
    kind: TransactionType,
    status: TransactionStatus,
    amount: Decimal,
    at: datetime,
    subscription_id: uuid.UUID | None = None,
    content_id: uuid.UUID | None = None,
    period: tuple[datetime, datetime] | None = None,
    details: dict[str, Any] | None = None,
) -> Row:
    transaction_id = ctx.new_id()
    return {
        "id": transaction_id,
        "user_id": payer.id,
        "creator_id": creator.id,
        "subscription_id": subscription_id,
        "content_id": content_id,
        "type": kind,
        "status": status,
        "amount": amount,
        "fee": platform_fee(amount, _FEE_BPS),
        "currency": creator.currency,
        "period_start": period[0] if period else None,
        "period_end": period[1] if period else None,
        "refund_of_id": None,
        "provider": PROVIDER,
        "provider_reference": f"{PROVIDER}_{transaction_id.hex}",
        "idempotency_key": None,
        "metadata": details,
        "created_at": at,
        "updated_at": at,
        "version": 1,
    }


def purchase_rows(
    ctx: SeedContext, plan: PlannedContent, title: str, adults: list[Person]
) -> tuple[list[Row], list[Row]]:
    """The planned buyers of a premium item: their payments and their entitlements."""
    transactions: list[Row] = []
    purchases: list[Row] = []
    if plan.price is None or plan.published_at is None or plan.engaged_until is None:
        return transactions, purchases
    creator = plan.creator
    for buyer in ctx.rng.sample(adults, plan.buyers):
        if buyer.id == creator.user.id:
            continue
        start = max(plan.published_at, buyer.created_at)
        at = ctx.between(start, max(start, plan.engaged_until))
        payment = transaction_row(
            ctx,
            payer=buyer,
            creator=creator,
            kind=TransactionType.PREMIUM_CONTENT,
            status=TransactionStatus.COMPLETED,
            amount=plan.price,
            at=at,
            content_id=plan.id,
            details={"title": title},
        )
        transactions.append(payment)
        purchases.append(
            {
                "id": ctx.new_id(),
                "user_id": buyer.id,
                "content_id": plan.id,
                "transaction_id": payment["id"],
                "amount": plan.price,
                "currency": creator.currency,
                "created_at": at,
            }
        )
    return transactions, purchases
