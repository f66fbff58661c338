"""Writing the ledger: every money movement is a transaction row, made here.

A payment is charged through the gateway and recorded with the platform's fee; a
declined charge raises `PaymentDeclined` (nothing is recorded: no money moved), unless
the caller keeps declines (renewals record them as FAILED). Amounts are Decimals in
cents throughout; fees are rounded half up to the cent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing.gateway import DEFAULT_METHOD, Outcome, PaymentGateway
from dreamlust.billing.repository import CENT, NEWEST_TRANSACTIONS, TransactionRepository
from dreamlust.config import Settings
from dreamlust.errors import InvalidInput, PaymentDeclined
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.models import Transaction, User
from dreamlust.models.enums import TransactionStatus, TransactionType

_STATUS = {
    Outcome.SUCCEEDED: TransactionStatus.COMPLETED,
    Outcome.PENDING: TransactionStatus.PENDING,
    Outcome.DECLINED: TransactionStatus.FAILED,
}


@dataclass(frozen=True)
class Payments:
    """What moving money needs: the settings and the provider."""

    settings: Settings
    gateway: PaymentGateway

    def check_amount(
        self,
        amount: Decimal,
        currency: str,
        *,
        field: str = "amount",
        at: tuple[str, ...] = ("body",),
    ) -> None:
        """Refuse a currency the platform does not take and an amount over the maximum
        (`at`: where the request holds them)."""
        if currency not in self.settings.currencies:
            raise InvalidInput(
                f"{currency} is not accepted; use one of {', '.join(self.settings.currencies)}.",
                loc=(*at, "currency"),
            )
        if amount > self.settings.max_payment_amount:
            raise InvalidInput(
                f"The {field} may be at most {self.settings.max_payment_amount}.",
                loc=(*at, field),
            )

    def check_method(self, method: str | None) -> str:
        method = method or DEFAULT_METHOD
        if not self.gateway.accepts(method):
            raise InvalidInput(
                "The payment provider does not know this payment method.",
                loc=("body", "payment_method"),
            )
        return method

    def fee(self, amount: Decimal) -> Decimal:
        return platform_fee(amount, self.settings.platform_fee_bps)


def platform_fee(amount: Decimal, bps: int) -> Decimal:
    """The platform's share of a payment: `bps` basis points, rounded half up to the cent."""
    return (amount * bps / Decimal(10_000)).quantize(CENT, rounding=ROUND_HALF_UP)


def refund_fee(
    original: Transaction, amount: Decimal, refunded: Decimal, fee_back: Decimal
) -> Decimal:
    """The share of the original fee a refund of `amount` gives back: proportional,
    never more than the rest of the fee (shares rounded up to the cent could add up to
    more), and exactly that rest when the refund completes the original."""
    rest = original.fee - fee_back
    if refunded + amount == original.amount:
        return rest
    share = original.fee * amount / original.amount
    return min(share.quantize(CENT, rounding=ROUND_HALF_UP), rest)


async def transactions_of(
    session: AsyncSession, user: User, page: PageRequest, paginator: Paginator
) -> KeysetPage[Transaction]:
    """The ledger entries of the user's own money, newest first."""
    repository = TransactionRepository(session)
    return await repository.page(repository.of_user(user.id), NEWEST_TRANSACTIONS, page, paginator)


async def pay(
    session: AsyncSession,
    payments: Payments,
    *,
    payer_id: uuid.UUID,
    creator_id: uuid.UUID,
    kind: TransactionType,
    amount: Decimal,
    currency: str,
    method: str,
    key: str,
    keep_declined: bool = False,
    subscription_id: uuid.UUID | None = None,
    content_id: uuid.UUID | None = None,
    period: tuple[datetime, datetime] | None = None,
    details: dict[str, Any] | None = None,
) -> Transaction:
    """Charge the payer for the creator and record the payment (COMPLETED or PENDING)."""
    result = await payments.gateway.charge(method=method, amount=amount, currency=currency, key=key)
    if result.outcome is Outcome.DECLINED and not keep_declined:
        raise PaymentDeclined(result.decline_reason or "The payment was declined.")
    transaction = Transaction(
        user_id=payer_id,
        creator_id=creator_id,
        subscription_id=subscription_id,
        content_id=content_id,
        type=kind,
        status=_STATUS[result.outcome],
        amount=amount,
        fee=payments.fee(amount),
        currency=currency,
        period_start=period[0] if period else None,
        period_end=period[1] if period else None,
        provider=payments.gateway.name,
        provider_reference=result.reference,
        details={
            **(details or {}),
            **({"decline": result.decline_reason} if result.decline_reason else {}),
        }
        or None,
    )
    return await TransactionRepository(session).add(transaction)
