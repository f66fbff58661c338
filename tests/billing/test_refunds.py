"""Refunds are made by administrators only, as REFUND rows linked to the payment they
return (never an edit of it), with their share of the platform's fee; together they
never exceed the payment, nor what the creator's balance can cover. A full refund takes
back what the payment gave (the item bought, the period paid), even while the renewal
job ends the same subscription; and every refund is in the audit log."""

import asyncio
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing import renewals
from dreamlust.billing.gateway import PaymentGateway, Result
from dreamlust.billing.ledger import Payments
from dreamlust.db import Database
from dreamlust.models import AuditLogEntry, ContentPurchase, Creator, Transaction, User
from dreamlust.models.enums import SubscriptionStatus, TransactionStatus, UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content
from tests.fixtures.money import (
    API,
    available,
    balance_by_hand,
    ledger_of,
    money_headers,
    paid_creator,
    refund,
    stored_subscription,
    subscribe,
    subscriber_count,
    tip,
    withdraw,
)


async def _tipped(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, amount: str
) -> tuple[Creator, User, dict[str, Any], User]:
    """A creator, its owner, a fan's tip of `amount` USD to it, and an administrator."""
    creator, owner = await paid_creator(session)
    fan = await make_account(session)
    response = await tip(client, runtime, fan, creator, amount)
    assert response.status_code == 201, response.text
    admin = await make_account(session, role=UserRole.ADMIN)
    return creator, owner, response.json(), admin


async def _stored(session: AsyncSession, transaction_id: str) -> Transaction:
    stored = await session.get(Transaction, uuid.UUID(transaction_id), populate_existing=True)
    await session.commit()
    assert stored is not None
    return stored


async def _refunds_of(session: AsyncSession, transaction_id: str) -> list[Transaction]:
    rows = list(
        await session.scalars(
            select(Transaction)
            .where(Transaction.refund_of_id == uuid.UUID(transaction_id))
            .order_by(Transaction.created_at)
        )
    )
    await session.commit()
    return rows


async def test_a_partial_refund_is_a_row_of_its_own_with_its_share_of_the_fee(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner, payment, admin = await _tipped(client, session, runtime, "10.00")
    before = await _stored(session, payment["id"])

    response = await refund(client, runtime, admin, payment["id"], amount="4.00", reason="dup")

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["type"], body["status"], body["amount"], body["fee"]) == (
        "REFUND",
        "COMPLETED",
        "4.00",
        "0.80",  # 4/10 of the 2.00 fee
    )
    assert (body["refund_of_id"], body["user_id"], body["creator_id"]) == (
        payment["id"],
        payment["user_id"],
        str(creator.id),
    )
    after = await _stored(session, payment["id"])
    assert (after.status, after.amount, after.fee, after.version) == (
        TransactionStatus.COMPLETED,
        Decimal("10.00"),
        Decimal("2.00"),
        before.version,
    )
    # 8.00 earned, 3.20 given back (4.00 less the 0.80 of fee the platform returns).
    assert await available(session, creator.id) == Decimal("4.80")
    assert balance_by_hand(await ledger_of(session, creator.id)) == Decimal("4.80")


async def test_partial_refunds_add_up_to_the_payment_and_not_a_cent_more(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner, payment, admin = await _tipped(client, session, runtime, "10.00")

    for amount in ("3.00", "3.00", "4.00"):
        response = await refund(client, runtime, admin, payment["id"], amount=amount)
        assert response.status_code == 201, response.text
    one_cent = await refund(client, runtime, admin, payment["id"], amount="0.01")
    the_rest = await refund(client, runtime, admin, payment["id"])

    assert (one_cent.status_code, the_rest.status_code) == (409, 409)
    refunds = await _refunds_of(session, payment["id"])
    assert [(entry.amount, entry.fee) for entry in refunds] == [
        (Decimal("3.00"), Decimal("0.60")),
        (Decimal("3.00"), Decimal("0.60")),
        (Decimal("4.00"), Decimal("0.80")),
    ]
    assert await available(session, creator.id) == Decimal("0.00")


async def test_the_fee_shares_of_small_refunds_never_exceed_the_fee(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    # A fee of 0.02 on 0.10: each 0.03 is 0.006 of fee, which rounds up to a cent.
    creator, _owner, payment, admin = await _tipped(client, session, runtime, "0.10")

    for amount in ("0.03", "0.03", "0.03", "0.01"):
        response = await refund(client, runtime, admin, payment["id"], amount=amount)
        assert response.status_code == 201, response.text

    fees = [entry.fee for entry in await _refunds_of(session, payment["id"])]
    assert all(fee >= 0 for fee in fees), fees
    running = [sum(fees[: index + 1]) for index in range(len(fees))]
    assert all(given <= Decimal("0.02") for given in running), fees
    assert sum(fees) == Decimal("0.02")
    assert await available(session, creator.id) == Decimal("0.00")


async def test_a_full_refund_of_a_purchase_takes_the_item_back(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    item = await make_content(
        session, creator, is_premium=True, price=Decimal("7.50"), currency="USD"
    )
    await session.commit()
    fan = await make_account(session)
    admin = await make_account(session, role=UserRole.ADMIN)
    bought = await client.post(
        f"{API}/content/{item.id}/purchase", headers=money_headers(runtime, fan)
    )
    assert bought.status_code == 201, bought.text
    payment = bought.json()["transaction"]

    async def holds() -> bool:
        found = await session.scalar(
            select(func.count())
            .select_from(ContentPurchase)
            .where(ContentPurchase.user_id == fan.id, ContentPurchase.content_id == item.id)
        )
        await session.commit()
        return found == 1

    assert await holds()
    partial = await refund(client, runtime, admin, payment["id"], amount="2.50")
    assert partial.status_code == 201, partial.text
    assert await holds()  # a partial refund leaves the item with the buyer

    rest = await refund(client, runtime, admin, payment["id"])

    assert rest.status_code == 201, rest.text
    assert (rest.json()["amount"], rest.json()["fee"]) == ("5.00", "1.00")
    assert not await holds()


async def test_a_full_refund_of_the_current_period_ends_the_subscription(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    admin = await make_account(session, role=UserRole.ADMIN)
    subscribed = (await subscribe(client, runtime, fan, creator, "PREMIUM")).json()
    subscription_id, payment = subscribed["subscription"]["id"], subscribed["transaction"]
    assert await subscriber_count(session, creator.id) == 1

    partial = await refund(client, runtime, admin, payment["id"], amount="1.00")
    assert partial.status_code == 201, partial.text
    assert (await stored_subscription(session, subscription_id)).status is (
        SubscriptionStatus.ACTIVE
    )

    rest = await refund(client, runtime, admin, payment["id"])

    assert rest.status_code == 201, rest.text
    subscription = await stored_subscription(session, subscription_id)
    assert (subscription.status, subscription.auto_renew) == (SubscriptionStatus.EXPIRED, False)
    assert await subscriber_count(session, creator.id) == 0


async def test_refunds_and_withdrawals_are_not_refunded_and_unknown_ids_are_404(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner, payment, admin = await _tipped(client, session, runtime, "10.00")
    a_refund = (await refund(client, runtime, admin, payment["id"], amount="1.00")).json()
    a_withdrawal = (await withdraw(client, runtime, owner, "1.00")).json()
    ledger_before = len(await ledger_of(session, creator.id))

    assert (await refund(client, runtime, admin, a_refund["id"])).status_code == 409
    assert (await refund(client, runtime, admin, a_withdrawal["id"])).status_code == 409
    assert (await refund(client, runtime, admin, uuid.uuid4())).status_code == 404
    assert len(await ledger_of(session, creator.id)) == ledger_before


async def test_a_refund_the_balance_cannot_cover_is_a_409(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner, payment, admin = await _tipped(client, session, runtime, "10.00")
    assert (await withdraw(client, runtime, owner, "8.00")).status_code == 201

    response = await refund(client, runtime, admin, payment["id"])

    assert response.status_code == 409, response.text
    assert await _refunds_of(session, payment["id"]) == []
    assert await available(session, creator.id) == Decimal("0.00")


@pytest.mark.parametrize("role", [UserRole.USER, UserRole.CREATOR, UserRole.MODERATOR])
async def test_only_administrators_refund(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, role: UserRole
) -> None:
    _creator, _owner, payment, _admin = await _tipped(client, session, runtime, "10.00")
    caller = await make_account(session, role=role)

    response = await refund(client, runtime, caller, payment["id"])

    assert response.status_code == 403, response.text
    assert await _refunds_of(session, payment["id"]) == []


async def test_every_refund_is_in_the_audit_log(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _creator, _owner, payment, admin = await _tipped(client, session, runtime, "10.00")

    response = await refund(client, runtime, admin, payment["id"], amount="2.50", reason="fraud")

    assert response.status_code == 201, response.text
    entries = list(await session.scalars(select(AuditLogEntry)))
    await session.commit()
    assert [
        (entry.actor_id, entry.action, entry.target_type, entry.target_id) for entry in entries
    ] == [(admin.id, "transaction.refund", "transaction", uuid.UUID(payment["id"]))]
    assert entries[0].details is not None
    assert (entries[0].details["amount"], entries[0].details["reason"]) == ("2.50", "fraud")


class HeldRefunds:
    """The sandbox provider, holding each refund until the test releases it."""

    def __init__(self, gateway: PaymentGateway) -> None:
        self.gateway, self.name = gateway, gateway.name
        self.entered, self.release = asyncio.Event(), asyncio.Event()
        self.accepts, self.charge, self.payout = gateway.accepts, gateway.charge, gateway.payout

    async def refund(self, *, reference: str, amount: Decimal, currency: str, key: str) -> Result:
        self.entered.set()
        await self.release.wait()
        return await self.gateway.refund(
            reference=reference, amount=amount, currency=currency, key=key
        )


async def _blocked_or_done(session: AsyncSession, task: asyncio.Task[Any]) -> None:
    """Wait until `task` has finished or waits for a row lock."""
    for _ in range(1000):
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        await session.commit()
        if waiting or task.done():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the task neither finished nor waited for a lock")


@pytest.mark.postgresql_only  # SQLite runs its writers one at a time: no locks to cross
async def test_a_full_refund_and_the_renewal_job_ending_one_subscription_do_not_deadlock(
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    admin = await make_account(session, role=UserRole.ADMIN)
    subscribed = (await subscribe(client, runtime, fan, creator)).json()
    subscription, payment = subscribed["subscription"], subscribed["transaction"]
    cancelled = await client.delete(
        f"{API}/subscriptions/{subscription['id']}", headers=headers_for(runtime, fan)
    )
    assert cancelled.json()["status"] == "CANCELED"
    period_over = datetime.fromisoformat(subscription["current_period_end"]) + timedelta(minutes=1)
    payments = Payments(runtime.settings, runtime.payments)
    provider = HeldRefunds(runtime.payments)
    monkeypatch.setattr(runtime, "payments", provider)

    # The refund holds its locks while the provider answers; the renewal job, come to
    # expire the same subscription meanwhile, must not take a lock the refund needs.
    refunding = asyncio.create_task(refund(client, runtime, admin, payment["id"]))
    try:
        await provider.entered.wait()
        renewing = asyncio.create_task(renewals.run(database, payments, period_over))
        await _blocked_or_done(session, renewing)
    finally:
        provider.release.set()
    refunded, _handled = await asyncio.gather(refunding, renewing)

    assert refunded.status_code == 201, refunded.text
    assert (await stored_subscription(session, subscription["id"])).status is (
        SubscriptionStatus.EXPIRED
    )
    assert await subscriber_count(session, creator.id) == 0
    assert await renewals.run(database, payments, period_over) == 0
    assert await subscriber_count(session, creator.id) == 0
