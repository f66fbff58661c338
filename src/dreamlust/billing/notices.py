"""What a creator hears of money coming in: a new subscriber, a tip, a purchase."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Creator, Transaction
from dreamlust.models.enums import NotificationType, TransactionType
from dreamlust.notifications import service as notifications

_TITLES = {
    TransactionType.SUBSCRIPTION: "You have a new subscriber",
    TransactionType.TIP: "You received a tip of {amount} {currency}",
    TransactionType.PREMIUM_CONTENT: "Your content was bought for {amount} {currency}",
}


async def payment_received(session: AsyncSession, transaction: Transaction) -> None:
    """Tell the creator of a completed payment that brings a subscriber or money."""
    assert transaction.creator_id is not None
    creator = await session.get_one(Creator, transaction.creator_id)
    kind = (
        NotificationType.NEW_SUBSCRIBER
        if transaction.type is TransactionType.SUBSCRIPTION
        else NotificationType.PAYMENT_RECEIVED
    )
    await notifications.emit(
        session,
        notifications.to_user(
            kind,
            creator.user_id,
            actor_id=transaction.user_id,
            title=_TITLES[transaction.type].format(
                amount=transaction.amount, currency=transaction.currency
            ),
            message=(transaction.details or {}).get("message"),
            link="/creators/me/earnings",
            details={
                "transaction_id": str(transaction.id),
                "amount": str(transaction.amount),
                "currency": transaction.currency,
            },
        ),
    )
