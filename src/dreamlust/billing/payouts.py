"""Money out of a creator's balance: withdrawals, and refunds an administrator makes.

Both lock the creator's row first and then read the balance from the ledger, so
concurrent requests queue and none can take out more than is there: a withdrawal never
exceeds the available balance, and a refund is refused when the creator's balance
cannot cover it (the ledger never goes negative).

A refund is a REFUND row linked to the payment it returns, never an edit of it; several
partial refunds may add up to the whole payment and no more. It gives back the same
share of the platform's fee. Refunding a purchase in full takes the entitlement away;
refunding a subscription's payment in full ends the period it paid for.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing import subscriptions
from dreamlust.billing.gateway import Outcome
from dreamlust.billing.ledger import Payments, refund_fee
from dreamlust.billing.repository import (
    INFLOWS,
    LedgerRepository,
    PurchaseRepository,
    SubscriptionRepository,
    TransactionRepository,
    lock_creator,
)
from dreamlust.billing.schemas import RefundCreate, WithdrawalCreate
from dreamlust.errors import Conflict, Forbidden, NotFound, PaymentDeclined
from dreamlust.kit.clock import utcnow
from dreamlust.models import Creator, Transaction, User
from dreamlust.models.enums import (
    CreatorStatus,
    SubscriptionStatus,
    TransactionStatus,
    TransactionType,
)
from dreamlust.moderation import audit


async def withdraw(
    session: AsyncSession, payments: Payments, creator: Creator, data: WithdrawalCreate, key: str
) -> Transaction:
    if creator.status is not CreatorStatus.APPROVED:
        raise Forbidden("Payouts are paused while the creator profile is not approved.")
    payments.check_amount(data.amount, data.currency)
    await lock_creator(session, creator.id)
    available = await LedgerRepository(session).available(creator.id, data.currency)
    if data.amount > available:
        raise Conflict(
            f"The withdrawal exceeds your available balance of {available} {data.currency}."
        )
    result = await payments.gateway.payout(
        amount=data.amount, currency=data.currency, key=f"withdraw:{creator.id}:{key}"
    )
    if result.outcome is Outcome.DECLINED:
        raise PaymentDeclined(result.decline_reason or "The payout was refused.")
    return await TransactionRepository(session).add(
        Transaction(
            user_id=creator.user_id,
            creator_id=creator.id,
            type=TransactionType.WITHDRAWAL,
            status=TransactionStatus.COMPLETED
            if result.outcome is Outcome.SUCCEEDED
            else TransactionStatus.PENDING,
            amount=data.amount,
            currency=data.currency,
            provider=payments.gateway.name,
            provider_reference=result.reference,
        )
    )


async def refund(
    session: AsyncSession,
    payments: Payments,
    admin: User,
    transaction_id: uuid.UUID,
    data: RefundCreate,
    key: str,
) -> Transaction:
    transactions = TransactionRepository(session)
    original = await transactions.get(transaction_id)
    if original is None:
        raise NotFound("No such transaction.")
    if original.type not in INFLOWS or original.creator_id is None:
        raise Conflict("Only a payment to a creator can be refunded.")
    if original.subscription_id is not None:
        # Before the creator: subscribing, cancelling and renewing lock the subscription
        # and then move the creator's subscriber count; a full refund may end it too.
        await SubscriptionRepository(session).locked(original.subscription_id)
    await lock_creator(session, original.creator_id)
    original = await transactions.locked(transaction_id)
    assert original is not None
    assert original.creator_id is not None
    if original.status is not TransactionStatus.COMPLETED:
        raise Conflict("Only a completed payment can be refunded.")
    refunded, fee_back = await transactions.refunded(original.id)
    amount = data.amount if data.amount is not None else original.amount - refunded
    if amount <= 0 or refunded + amount > original.amount:
        raise Conflict(
            f"At most {original.amount - refunded} {original.currency} of this payment "
            "can still be refunded."
        )
    fee = refund_fee(original, amount, refunded, fee_back)
    available = await LedgerRepository(session).available(original.creator_id, original.currency)
    if amount - fee > available:
        raise Conflict(
            f"The creator's balance ({available} {original.currency}) cannot cover this refund."
        )
    assert original.provider_reference is not None
    result = await payments.gateway.refund(
        reference=original.provider_reference,
        amount=amount,
        currency=original.currency,
        key=f"refund:{original.id}:{key}",
    )
    if result.outcome is Outcome.DECLINED:
        raise PaymentDeclined(result.decline_reason or "The provider refused the refund.")
    entry = await transactions.add(
        Transaction(
            user_id=original.user_id,
            creator_id=original.creator_id,
            subscription_id=original.subscription_id,
            content_id=original.content_id,
            refund_of_id=original.id,
            type=TransactionType.REFUND,
            status=TransactionStatus.COMPLETED,
            amount=amount,
            fee=fee,
            currency=original.currency,
            provider=payments.gateway.name,
            provider_reference=result.reference,
            details={"reason": data.reason} if data.reason else None,
        )
    )
    if refunded + amount == original.amount:
        await _take_back(session, original)
    await audit.record(
        session,
        actor_id=admin.id,
        action="transaction.refund",
        target_type="transaction",
        target_id=original.id,
        details={
            "amount": str(amount),
            "currency": original.currency,
            "refunded_before": str(refunded),
            "reason": data.reason,
        },
    )
    return entry


async def _take_back(session: AsyncSession, original: Transaction) -> None:
    """What a fully refunded payment had given: the item bought, the period paid."""
    if original.type is TransactionType.PREMIUM_CONTENT:
        await PurchaseRepository(session).revoke(original.id)
    if original.type is TransactionType.SUBSCRIPTION and original.subscription_id is not None:
        subscription = await SubscriptionRepository(session).locked(original.subscription_id)
        if (
            subscription is not None
            and subscriptions.is_live(subscription.status)
            and subscription.current_period_end == original.period_end
        ):
            now = utcnow()
            subscription.current_period_end = now
            subscription.auto_renew = False
            subscription.canceled_at = subscription.canceled_at or now
            await subscriptions.set_status(session, subscription, SubscriptionStatus.EXPIRED)
            await session.flush()
