"""Tips and premium purchases: one charge each, recorded in the ledger.

A purchase grants its entitlement with the completed payment; a pending payment grants
it when the provider settles it (`billing.webhooks`). Buying what one already holds,
or while a payment for it is pending, is a 409; the payer's money requests queue on
their user row, so two purchases of one item never both charge.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing import notices
from dreamlust.billing.ledger import Payments, pay
from dreamlust.billing.repository import PurchaseRepository, TransactionRepository, lock_user
from dreamlust.billing.schemas import PurchaseRequest, TipCreate
from dreamlust.errors import Conflict
from dreamlust.models import Content, ContentPurchase, Creator, Transaction, User
from dreamlust.models.enums import ContentStatus, TransactionStatus, TransactionType


async def tip(
    session: AsyncSession,
    payments: Payments,
    tipper: User,
    creator: Creator,
    data: TipCreate,
    key: str,
) -> Transaction:
    if creator.user_id == tipper.id:
        raise Conflict("You cannot tip yourself.")
    if not creator.tips_enabled:
        raise Conflict("This creator does not accept tips.")
    payments.check_amount(data.amount, data.currency)
    method = payments.check_method(data.payment_method)
    await lock_user(session, tipper.id)
    transaction = await pay(
        session,
        payments,
        payer_id=tipper.id,
        creator_id=creator.id,
        kind=TransactionType.TIP,
        amount=data.amount,
        currency=data.currency,
        method=method,
        key=f"tip:{tipper.id}:{key}",
        details={"message": data.message} if data.message else None,
    )
    if transaction.status is TransactionStatus.COMPLETED:
        await notices.payment_received(session, transaction)
    return transaction


async def purchase(
    session: AsyncSession,
    payments: Payments,
    buyer: User,
    content: Content,
    data: PurchaseRequest,
    key: str,
) -> tuple[Transaction, bool]:
    """Buy a premium item; the payment, and whether the buyer holds the item now."""
    on_sale = content.is_premium and content.status is ContentStatus.PUBLISHED
    if not on_sale or content.price is None or content.currency is None:
        raise Conflict("This content is not for sale.")
    creator = await session.get_one(Creator, content.creator_id)
    if creator.user_id == buyer.id:
        raise Conflict("This content is yours.")
    payments.check_amount(content.price, content.currency, field="price")
    method = payments.check_method(data.payment_method)
    await lock_user(session, buyer.id)
    if await PurchaseRepository(session).owns(buyer.id, content.id):
        raise Conflict("You have already bought this content.")
    if await TransactionRepository(session).pending_purchase(buyer.id, content.id):
        raise Conflict("A payment for this content is still pending.")
    transaction = await pay(
        session,
        payments,
        payer_id=buyer.id,
        creator_id=content.creator_id,
        kind=TransactionType.PREMIUM_CONTENT,
        amount=content.price,
        currency=content.currency,
        method=method,
        key=f"purchase:{buyer.id}:{key}",
        content_id=content.id,
        details={"title": content.title},
    )
    if transaction.status is TransactionStatus.COMPLETED:
        await grant(session, transaction)
        await notices.payment_received(session, transaction)
        return transaction, True
    return transaction, False


async def grant(session: AsyncSession, transaction: Transaction) -> None:
    """The entitlement a completed purchase gives."""
    assert transaction.user_id is not None
    assert transaction.content_id is not None
    await PurchaseRepository(session).add(
        ContentPurchase(
            user_id=transaction.user_id,
            content_id=transaction.content_id,
            transaction_id=transaction.id,
            amount=transaction.amount,
            currency=transaction.currency,
        )
    )
