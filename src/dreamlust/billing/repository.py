"""Every query of money: tiers, subscriptions, the ledger and its balances, idempotency
records and provider events.

Money requests take row locks in one order, so that they queue instead of deadlocking:
the idempotency record, then the payer's user row, then the creator's row, then the
transaction being refunded. On SQLite every write transaction holds the database's
write lock from its start (BEGIN IMMEDIATE), which serializes them all the same.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Select,
    case,
    delete,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.ids import new_id
from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.repository import Repository
from dreamlust.kit.upsert import insert_or_ignore
from dreamlust.models import (
    ContentPurchase,
    Creator,
    CreatorTier,
    IdempotencyRecord,
    PaymentEvent,
    Subscription,
    Transaction,
    User,
)
from dreamlust.models.enums import SubscriptionStatus, TransactionStatus, TransactionType
from dreamlust.models.read_models import creator_balances

CENT = Decimal("0.01")
INFLOWS = (TransactionType.SUBSCRIPTION, TransactionType.TIP, TransactionType.PREMIUM_CONTENT)

NEWEST_SUBSCRIPTIONS = Ordering(
    scope="subscriptions:newest",
    keys=(SortKey(Subscription.created_at), SortKey(Subscription.id)),
)
NEWEST_TRANSACTIONS = Ordering(
    scope="transactions:newest",
    keys=(SortKey(Transaction.created_at), SortKey(Transaction.id)),
)


def from_cents(cents: int | None) -> Decimal:
    return (Decimal(cents or 0) * CENT).quantize(CENT)


async def lock_user(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Queue the payer's money requests one behind the other. FOR NO KEY UPDATE: rows
    referencing the user (the idempotency record each request claims first) hold KEY
    SHARE locks on it, which FOR UPDATE would wait for, deadlocking two requests."""
    await session.execute(select(User.id).where(User.id == user_id).with_for_update(key_share=True))


async def lock_creator(session: AsyncSession, creator_id: uuid.UUID) -> None:
    """Queue whatever takes money out of a creator's balance (withdrawals, refunds).
    FOR NO KEY UPDATE: every payment inserted for the creator holds a KEY SHARE lock on
    its row (the foreign key), which FOR UPDATE would wait for, deadlocking a refund
    with a payment of the same payer."""
    await session.execute(
        select(Creator.id).where(Creator.id == creator_id).with_for_update(key_share=True)
    )


class TierRepository(Repository[CreatorTier]):
    model = CreatorTier

    async def offered(self, creator_id: uuid.UUID) -> list[CreatorTier]:
        return await self.all(
            select(CreatorTier)
            .where(CreatorTier.creator_id == creator_id)
            .order_by(CreatorTier.level, CreatorTier.price, CreatorTier.tier)
        )

    async def find(self, creator_id: uuid.UUID, tier: str) -> CreatorTier | None:
        return await self.one_or_none(
            select(CreatorTier).where(
                CreatorTier.creator_id == creator_id, CreatorTier.tier == tier
            )
        )

    async def remove_others(self, creator_id: uuid.UUID, kept: list[str]) -> None:
        await self.session.execute(
            delete(CreatorTier).where(
                CreatorTier.creator_id == creator_id, CreatorTier.tier.not_in(kept)
            )
        )


class SubscriptionRepository(Repository[Subscription]):
    model = Subscription

    async def locked(self, subscription_id: uuid.UUID) -> Subscription | None:
        return await self.one_or_none(
            select(Subscription)
            .where(Subscription.id == subscription_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def of_pair(self, subscriber_id: uuid.UUID, creator_id: uuid.UUID) -> Subscription | None:
        return await self.one_or_none(
            select(Subscription)
            .where(
                Subscription.subscriber_id == subscriber_id, Subscription.creator_id == creator_id
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    def of_subscriber(self, subscriber_id: uuid.UUID) -> Select[Subscription]:
        return select(Subscription).where(Subscription.subscriber_id == subscriber_id)

    def of_creator(self, creator_id: uuid.UUID) -> Select[Any]:
        """Live subscriptions to a creator, each with its subscriber's names."""
        columns: list[Any] = [Subscription, User.username, User.display_name]
        return (
            select(*columns)
            .join(User, User.id == Subscription.subscriber_id)
            .where(
                Subscription.creator_id == creator_id,
                Subscription.status.in_((SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELED)),
            )
        )

    async def next_due(self, where: Any) -> Subscription | None:
        """One subscription the renewal job should handle, locked; rows other workers
        hold are skipped (PostgreSQL), so concurrent workers never take the same one."""
        return await self.one_or_none(
            select(Subscription)
            .where(where)
            .order_by(Subscription.current_period_end, Subscription.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )

    async def count_on(self, creator_id: uuid.UUID, delta: int) -> None:
        await self.session.execute(
            update(Creator)
            .where(Creator.id == creator_id)
            .values(subscriber_count=Creator.subscriber_count + delta)
        )


class TransactionRepository(Repository[Transaction]):
    model = Transaction

    async def locked(self, transaction_id: uuid.UUID) -> Transaction | None:
        return await self.one_or_none(
            select(Transaction)
            .where(Transaction.id == transaction_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )

    async def by_reference(self, reference: str) -> Transaction | None:
        return await self.one_or_none(
            select(Transaction).where(Transaction.provider_reference == reference)
        )

    def of_user(self, user_id: uuid.UUID) -> Select[Transaction]:
        return select(Transaction).where(Transaction.user_id == user_id)

    async def refunded(self, original_id: uuid.UUID) -> tuple[Decimal, Decimal]:
        """How much of a payment, and of its fee, refunds have given back so far."""
        amount, fee = (
            await self.session.execute(
                select(
                    func.coalesce(func.sum(Transaction.amount), 0),
                    func.coalesce(func.sum(Transaction.fee), 0),
                ).where(
                    Transaction.refund_of_id == original_id,
                    Transaction.status == TransactionStatus.COMPLETED,
                )
            )
        ).one()
        return Decimal(str(amount)).quantize(CENT), Decimal(str(fee)).quantize(CENT)

    async def pending_purchase(self, user_id: uuid.UUID, content_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(Transaction.id).where(
                Transaction.user_id == user_id,
                Transaction.content_id == content_id,
                Transaction.type == TransactionType.PREMIUM_CONTENT,
                Transaction.status == TransactionStatus.PENDING,
            )
        )
        return found is not None


class PurchaseRepository(Repository[ContentPurchase]):
    model = ContentPurchase

    async def owns(self, user_id: uuid.UUID, content_id: uuid.UUID) -> bool:
        found = await self.session.scalar(
            select(ContentPurchase.id).where(
                ContentPurchase.user_id == user_id, ContentPurchase.content_id == content_id
            )
        )
        return found is not None

    async def revoke(self, transaction_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(ContentPurchase).where(ContentPurchase.transaction_id == transaction_id)
        )


class LedgerRepository:
    """Balances and earnings, derived from the ledger by the `creator_balances` view."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def balances(self, creator_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(creator_balances)
            .where(creator_balances.c.creator_id == creator_id)
            .order_by(creator_balances.c.currency)
        )
        return [dict(row._mapping) for row in rows]

    async def available(self, creator_id: uuid.UUID, currency: str) -> Decimal:
        cents = await self.session.scalar(
            select(creator_balances.c.available_cents).where(
                creator_balances.c.creator_id == creator_id,
                creator_balances.c.currency == currency,
            )
        )
        return from_cents(cents)

    async def periods(self, creator_id: uuid.UUID, length: str, limit: int) -> list[Any]:
        """Completed inflows, fees and refunds in each of the `limit` latest periods that
        have any (newest first), per currency, in cents."""
        bucket = _period(self.session, length)
        cents = func.cast(func.round(Transaction.amount * 100), BigInteger)
        fee_cents = func.cast(func.round(Transaction.fee * 100), BigInteger)
        is_inflow = Transaction.type.in_(INFLOWS)
        is_refund = Transaction.type == TransactionType.REFUND
        earned = (
            Transaction.creator_id == creator_id,
            Transaction.status == TransactionStatus.COMPLETED,
            Transaction.type.in_((*INFLOWS, TransactionType.REFUND)),
        )
        latest = (
            select(bucket.label("period"))
            .where(*earned)
            .group_by(bucket)
            .order_by(bucket.desc())
            .limit(limit)
            .subquery()
        )
        stmt = (
            select(
                bucket.label("period"),
                Transaction.currency,
                func.sum(_when(is_inflow, cents)).label("gross"),
                func.sum(_when(is_inflow, fee_cents) - _when(is_refund, fee_cents)).label("fees"),
                func.sum(_when(is_refund, cents)).label("refunded"),
            )
            .where(*earned, bucket.in_(select(latest.c.period)))
            .group_by(bucket, Transaction.currency)
            .order_by(bucket.desc(), Transaction.currency)
        )
        return list((await self.session.execute(stmt)).all())


def _when(condition: Any, value: Any) -> Any:
    return case((condition, value), else_=0)


_FORMATS = {
    "day": ("YYYY-MM-DD", "%Y-%m-%d"),
    "month": ("YYYY-MM", "%Y-%m"),
    "year": ("YYYY", "%Y"),
}


def _period(session: AsyncSession, length: str) -> Any:
    postgres, sqlite = _FORMATS[length]
    if session.get_bind().dialect.name == "postgresql":
        utc = func.timezone(literal_column("'UTC'"), Transaction.created_at)
        return func.to_char(utc, postgres)
    return func.strftime(sqlite, Transaction.created_at)


class IdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self, user_id: uuid.UUID, key: str, request_hash: str, expires_at: datetime
    ) -> bool:
        """Take the key for this request; False when another request holds it. On
        PostgreSQL the insert waits for a concurrent holder's transaction to end."""
        result = await self.session.execute(
            insert_or_ignore(self.session, IdempotencyRecord)
            .values(
                id=new_id(),
                user_id=user_id,
                key=key,
                request_hash=request_hash,
                expires_at=expires_at,
            )
            .returning(IdempotencyRecord.id)
        )
        return result.first() is not None

    async def find(self, user_id: uuid.UUID, key: str) -> IdempotencyRecord | None:
        return (
            await self.session.execute(
                select(IdempotencyRecord)
                .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
                .execution_options(populate_existing=True)
            )
        ).scalar_one_or_none()

    async def forget(self, record_id: uuid.UUID) -> None:
        await self.session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id)
        )

    async def store(self, user_id: uuid.UUID, key: str, status: int, body: str) -> None:
        await self.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
            .values(response_status=status, response_body=body)
        )

    async def expire(self, now: datetime) -> int:
        result = await self.session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.expires_at <= now)
            .returning(IdempotencyRecord.id)
        )
        return len(result.all())


async def record_event(
    session: AsyncSession, provider: str, event_id: str, kind: str, payload: dict[str, Any]
) -> bool:
    """Keep a provider event; False when it was already received."""
    result = await session.execute(
        insert_or_ignore(session, PaymentEvent)
        .values(id=new_id(), provider=provider, event_id=event_id, type=kind, payload=payload)
        .returning(PaymentEvent.id)
    )
    return result.first() is not None
