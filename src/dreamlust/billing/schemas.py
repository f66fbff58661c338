"""Request and response models of money: tiers, subscriptions, tips, purchases, the
ledger, earnings and withdrawals. Amounts are exact decimals, answered as strings."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import Field, StrictBool, StringConstraints, model_validator

from dreamlust.kit.schemas import (
    Currency,
    Input,
    LongText,
    Name,
    Price,
    Schema,
    SingleLine,
)
from dreamlust.models.enums import (
    BillingInterval,
    SubscriptionStatus,
    SubscriptionTier,
    TransactionStatus,
    TransactionType,
)

MAX_TIP_MESSAGE = 500
PaymentMethod = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
]
Benefit = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SingleLine
]
TipMessage = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_TIP_MESSAGE), SingleLine
]
Level = Annotated[int, Field(strict=True, ge=1, le=3)]


class TierInput(Input):
    """One tier a creator offers. A CUSTOM tier needs its own name and says which level
    of premium content it includes (1 as BASIC, the default; 2 as PREMIUM; 3 as VIP)."""

    tier: SubscriptionTier
    price: Price
    currency: Currency
    interval: BillingInterval = BillingInterval.MONTH
    name: Name | None = None
    level: Level | None = None
    benefits: Annotated[list[Benefit], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _custom_is_named(self) -> Self:
        if self.tier is SubscriptionTier.CUSTOM:
            if self.name is None:
                raise ValueError("a CUSTOM tier needs a name")
        elif self.level is not None:
            raise ValueError(f"the level of {self.tier.value} is fixed")
        return self


class TierSet(Input):
    """PUT /creators/me/tiers: every tier offered; a tier left out is no longer offered
    (its subscribers keep it until their period ends)."""

    tiers: Annotated[list[TierInput], Field(max_length=4)]

    @model_validator(mode="after")
    def _one_of_each(self) -> Self:
        kinds = [tier.tier for tier in self.tiers]
        if len(set(kinds)) != len(kinds):
            raise ValueError("each tier may be given once")
        return self


class TierRead(Schema):
    tier: SubscriptionTier
    name: str
    price: Decimal
    currency: str
    interval: BillingInterval
    level: int
    benefits: list[str]


class SubscribeRequest(Input):
    tier: SubscriptionTier
    payment_method: PaymentMethod | None = None


class SubscriptionUpdate(Input):
    """A change of tier (an upgrade at once and prorated, a downgrade at the end of the
    period), of renewal, or of the payment method renewals charge."""

    tier: SubscriptionTier | None = None
    auto_renew: StrictBool | None = None
    payment_method: PaymentMethod | None = None
    version: Annotated[int, Field(strict=True, ge=1)] | None = None


class SubscriptionRead(Schema):
    id: uuid.UUID
    subscriber_id: uuid.UUID
    creator_id: uuid.UUID
    tier: SubscriptionTier
    level: int
    status: SubscriptionStatus
    amount: Decimal
    currency: str
    interval: BillingInterval
    auto_renew: bool
    started_at: datetime | None
    current_period_end: datetime | None
    canceled_at: datetime | None
    next_tier: SubscriptionTier | None
    failed_attempts: int
    retry_at: datetime | None
    created_at: datetime
    version: int


class TransactionRead(Schema):
    id: uuid.UUID
    type: TransactionType
    status: TransactionStatus
    amount: Decimal
    fee: Decimal
    currency: str
    user_id: uuid.UUID | None
    creator_id: uuid.UUID | None
    subscription_id: uuid.UUID | None
    content_id: uuid.UUID | None
    refund_of_id: uuid.UUID | None
    period_start: datetime | None
    period_end: datetime | None
    provider: str | None
    provider_reference: str | None
    details: dict[str, object] | None
    created_at: datetime
    version: int


class Subscribed(Schema):
    """The answer to a subscription: the subscription and the payment for its period."""

    subscription: SubscriptionRead
    transaction: TransactionRead


class SubscriberRead(Schema):
    subscription: SubscriptionRead
    username: str
    display_name: str | None


class TipCreate(Input):
    amount: Price
    currency: Currency
    message: TipMessage | None = None
    payment_method: PaymentMethod | None = None


class PurchaseRequest(Input):
    payment_method: PaymentMethod | None = None


class PurchaseRead(Schema):
    content_id: uuid.UUID
    entitled: bool
    transaction: TransactionRead


class WithdrawalCreate(Input):
    amount: Price
    currency: Currency


class RefundCreate(Input):
    """An amount to give back (the whole rest of the payment when left out)."""

    amount: Price | None = None
    reason: LongText | None = None


class Balance(Schema):
    """A creator's money in one currency, derived from the ledger: `available` is what
    completed payments brought in, less the platform's fees, refunds and withdrawals."""

    currency: str
    available: Decimal
    pending: Decimal
    gross: Decimal
    fees: Decimal
    refunded: Decimal
    paid_out: Decimal


class EarningsPeriod(Schema):
    period: str
    currency: str
    gross: Decimal
    fees: Decimal
    refunded: Decimal
    net: Decimal


class Earnings(Schema):
    balances: list[Balance]
    periods: list[EarningsPeriod]


Period = Literal["day", "month", "year"]
