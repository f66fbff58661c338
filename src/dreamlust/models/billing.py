"""Subscriptions, the transaction ledger and idempotency records."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, true
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


class Subscription(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A paid subscription of a user to a creator; one row per pair, renewed in place."""

    __tablename__ = "subscriptions"

    subscriber_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    creator_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("creators.id", ondelete="CASCADE"))
    tier: Mapped[SubscriptionTier] = mapped_column(enum_type(SubscriptionTier, "tier"))
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

    creator: Mapped[Creator] = relationship(lazy="raise")
    transactions: Mapped[list[Transaction]] = relationship(
        back_populates="subscription", lazy="raise"
    )

    __table_args__ = (
        UniqueConstraint("subscriber_id", "creator_id"),
        Index("ix_subscriptions_subscriber_id_created_at", "subscriber_id", "created_at"),
        Index("ix_subscriptions_creator_id_status", "creator_id", "status"),
    )


class Transaction(IdMixin, TimestampMixin, VersionedMixin, Base):
    """A ledger entry. Never deleted: purged users and content leave it with NULL links."""

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
    type: Mapped[TransactionType] = mapped_column(enum_type(TransactionType, "type"), index=True)
    status: Mapped[TransactionStatus] = mapped_column(
        enum_type(TransactionStatus, "status"), default=TransactionStatus.PENDING, index=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    provider: Mapped[str | None] = mapped_column(String(50))
    provider_reference: Mapped[str | None] = mapped_column(String(255), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSONDocument)

    subscription: Mapped[Subscription | None] = relationship(
        back_populates="transactions", lazy="raise"
    )

    __table_args__ = (
        Index("ix_transactions_user_id_created_at", "user_id", "created_at"),
        Index("ix_transactions_creator_id_created_at", "creator_id", "created_at"),
        UniqueConstraint("user_id", "idempotency_key"),
    )


class IdempotencyRecord(IdMixin, CreatedAtMixin, Base):
    """The first response to a money-moving POST, replayed for retries with the same key."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response_status: Mapped[int | None]
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)
    expires_at: Mapped[datetime] = mapped_column(index=True)

    __table_args__ = (
        UniqueConstraint("user_id", "key"),
        Index("ix_idempotency_records_user_id_created_at", "user_id", "created_at"),
    )
