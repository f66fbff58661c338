"""Subscription tiers, subscriptions, the transaction ledger, idempotency records and the
payment provider's events."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dreamlust.kit.model import Base, CreatedAtMixin, IdMixin, TimestampMixin, VersionedMixin
from dreamlust.kit.types import JSONDocument, Money, enum_type
from dreamlust.models.enums import (
    BillingInterval,
    SubscriptionStatus,
    SubscriptionTier,
    TransactionStatus,
    TransactionType,
)

if TYPE_CHECKING:
    from dreamlust.models.creators import Creator


class CreatorTier(IdMixin, TimestampMixin, Base):
    """A subscription tier a creator offers: its price, billing interval and benefits.

    `level` is what the tier includes: premium content asks for a level (BASIC 1,
    PREMIUM 2, VIP 3) and a subscription of this tier or above plays it. A CUSTOM tier
    chooses its level. A price change applies to periods that start after it.
    """

    __tablename__ = "creator_tiers"

    creator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    tier: Mapped[SubscriptionTier] = mapped_column(enum_type(SubscriptionTier, "tier"))
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    interval: Mapped[BillingInterval] = mapped_column(enum_type(BillingInterval, "interval"))
    level: Mapped[int] = mapped_column(SmallInteger)
    benefits: Mapped[list[str]] = mapped_column(JSONDocument)

    __table_args__ = (
        UniqueConstraint("creator_id", "tier"),
        CheckConstraint("level BETWEEN 1 AND 3", name="level_range"),
        CheckConstraint("price > 0", name="price_positive"),
    )


class Subscription(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A paid subscription of a user to a creator: one row per pair, renewed in place;
    every period paid is a SUBSCRIPTION transaction with its period's bounds.

    ACTIVE and CANCELED subscriptions are live (and counted in the creator's
    `subscriber_count`): they play what their `level` includes until
    `current_period_end`. CANCELED ones are not renewed; the worker expires them.
    """

    __tablename__ = "subscriptions"

    subscriber_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    creator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    tier: Mapped[SubscriptionTier] = mapped_column(enum_type(SubscriptionTier, "tier"))
    level: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    status: Mapped[SubscriptionStatus] = mapped_column(
        enum_type(SubscriptionStatus, "status"), default=SubscriptionStatus.PENDING, index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    interval: Mapped[BillingInterval] = mapped_column(
        enum_type(BillingInterval, "interval"), default=BillingInterval.MONTH
    )
    auto_renew: Mapped[bool] = mapped_column(default=True, server_default=true())
    started_at: Mapped[datetime | None]
    current_period_end: Mapped[datetime | None] = mapped_column(index=True)
    canceled_at: Mapped[datetime | None]
    # A downgrade waits for the end of the period already paid.
    next_tier: Mapped[SubscriptionTier | None] = mapped_column(
        enum_type(SubscriptionTier, "next_tier")
    )
    payment_method: Mapped[str | None] = mapped_column(String(64))
    failed_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    retry_at: Mapped[datetime | None]

    creator: Mapped[Creator] = relationship(lazy="raise")
    transactions: Mapped[list[Transaction]] = relationship(
        back_populates="subscription", lazy="raise"
    )

    __table_args__ = (
        UniqueConstraint("subscriber_id", "creator_id"),
        Index("ix_subscriptions_subscriber_id_created_at_id", "subscriber_id", "created_at", "id"),
        Index("ix_subscriptions_creator_id_status", "creator_id", "status"),
        Index("ix_subscriptions_creator_id_created_at_id", "creator_id", "created_at", "id"),
    )


class Transaction(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A ledger entry, append-only: a refund is a REFUND row pointing at the payment it
    returns, never an edit of it. Only a PENDING entry changes, once, when the provider
    settles it. Never deleted: purged users and content leave it with NULL links.

    `fee` is the platform's share of an inflow; on a refund, the share of the fee that
    goes back with it. A creator's balance is derived from these rows (the
    `creator_balances` view)."""

    __tablename__ = "transactions"

    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    creator_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("creators.id", ondelete="SET NULL")
    )
    subscription_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True
    )
    content_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("content.id", ondelete="SET NULL"), index=True
    )
    refund_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("transactions.id"), index=True
    )
    type: Mapped[TransactionType] = mapped_column(enum_type(TransactionType, "type"), index=True)
    status: Mapped[TransactionStatus] = mapped_column(
        enum_type(TransactionStatus, "status"), default=TransactionStatus.PENDING, index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")
    currency: Mapped[str] = mapped_column(String(3))
    period_start: Mapped[datetime | None]
    period_end: Mapped[datetime | None]
    provider: Mapped[str | None] = mapped_column(String(50))
    provider_reference: Mapped[str | None] = mapped_column(String(255), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONDocument)

    subscription: Mapped[Subscription | None] = relationship(
        back_populates="transactions", lazy="raise"
    )

    __table_args__ = (
        Index("ix_transactions_creator_id_created_at", "creator_id", "created_at"),
        Index("ix_transactions_user_id_created_at_id", "user_id", "created_at", "id"),
        UniqueConstraint("user_id", "idempotency_key"),
    )


class IdempotencyRecord(IdMixin, CreatedAtMixin, Base):
    """The first response to a money-moving POST, replayed byte for byte for retries
    with the same key; written in the transaction that moved the money."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None]
    response_body: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotency_records_user_id_created_at", "user_id", "created_at"),
    )


class PaymentEvent(IdMixin, CreatedAtMixin, Base):
    """A webhook event of the payment provider, kept so that a redelivery is applied once."""

    __tablename__ = "payment_events"

    provider: Mapped[str] = mapped_column(String(50))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONDocument)

    __table_args__ = (UniqueConstraint("provider", "event_id"),)
