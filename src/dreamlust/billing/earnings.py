"""What a creator has earned: balances per currency and earnings by period, both
derived from the ledger, to the cent."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing.repository import LedgerRepository, from_cents
from dreamlust.billing.schemas import Balance, Earnings, EarningsPeriod, Period
from dreamlust.models import Creator


async def earnings(session: AsyncSession, creator: Creator, period: Period, limit: int) -> Earnings:
    ledger = LedgerRepository(session)
    balances = [
        Balance(
            currency=row["currency"],
            available=from_cents(row["available_cents"]),
            pending=from_cents(row["pending_cents"]),
            gross=from_cents(row["gross_cents"]),
            fees=from_cents(row["fee_cents"]),
            refunded=from_cents(row["refunded_cents"]),
            paid_out=from_cents(row["withdrawn_cents"]),
        )
        for row in await ledger.balances(creator.id)
    ]
    periods = [
        EarningsPeriod(
            period=row.period,
            currency=row.currency,
            gross=from_cents(row.gross),
            fees=from_cents(row.fees),
            refunded=from_cents(row.refunded),
            net=from_cents(row.gross - row.fees - row.refunded),
        )
        for row in await ledger.periods(creator.id, period, limit)
    ]
    return Earnings(balances=balances, periods=periods)
