"""The renewal job: a due subscription is charged once for the next calendar month at its
tier's price of that day (a downgrade waits for it), a cancelled one expires, a declined
one fails, is retried and expires after the grace period; two jobs running at once renew
each subscription exactly once."""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing import renewals
from dreamlust.billing.gateway import Result, SandboxGateway
from dreamlust.billing.ledger import Payments
from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.models import Subscription, Transaction, User
from dreamlust.models.enums import SubscriptionStatus, TransactionStatus, TransactionType
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_subscription, make_user
from tests.fixtures.money import (
    API,
    paid_creator,
    stored_subscription,
    subscribe,
    subscriber_count,
)

Renew = Callable[[datetime], Awaitable[int]]
# A period end set by hand, so that the next ones can be written out.
DUE = datetime(2030, 1, 31, 12, tzinfo=UTC)


@pytest.fixture
def renew(database: Database, runtime: Runtime, settings: Settings) -> Renew:
    """The renewal job, run at a given time."""
    payments = Payments(settings, runtime.payments)

    async def run(now: datetime) -> int:
        return await renewals.run(database, payments, now)

    return run


async def _subscribed(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, tier: str = "BASIC"
) -> tuple[dict[str, Any], User, User]:
    """A fan's ACTIVE subscription whose period ends at `DUE`; the fan; the creator's owner."""
    creator, owner = await paid_creator(session)
    fan = await make_account(session)
    response = await subscribe(client, runtime, fan, creator, tier)
    assert response.status_code == 201, response.text
    subscription = response.json()["subscription"]
    await session.execute(
        update(Subscription)
        .where(Subscription.id == uuid.UUID(subscription["id"]))
        .values(current_period_end=DUE)
    )
    await session.commit()
    return subscription, fan, owner


async def _payments_of(session: AsyncSession, subscription: dict[str, Any]) -> list[Transaction]:
    """The subscription's transactions, in the order of the periods they pay."""
    rows = list(
        await session.scalars(
            select(Transaction)
            .where(Transaction.subscription_id == uuid.UUID(subscription["id"]))
            .order_by(Transaction.period_start)
        )
    )
    await session.commit()
    return rows


async def _change(
    client: httpx.AsyncClient, runtime: Runtime, fan: User, subscription_id: str, **changes: Any
) -> dict[str, Any]:
    """PATCH the subscription at its current version."""
    path = f"{API}/subscriptions/{subscription_id}"
    current = await client.get(path, headers=headers_for(runtime, fan))
    response = await client.patch(
        path,
        json={**changes, "version": current.json()["version"]},
        headers=headers_for(runtime, fan),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_due_subscription_is_renewed_once_for_the_next_calendar_month(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, renew: Renew
) -> None:
    subscription, _fan, _owner = await _subscribed(client, session, runtime)

    assert await renew(DUE - timedelta(seconds=1)) == 0
    assert await renew(DUE) == 1
    assert await renew(DUE) == 0

    _first, renewal = await _payments_of(session, subscription)
    next_end = datetime(2030, 2, 28, 12, tzinfo=UTC)  # January 31st + one calendar month
    assert (renewal.type, renewal.status, renewal.amount) == (
        TransactionType.SUBSCRIPTION,
        TransactionStatus.COMPLETED,
        Decimal("5.00"),
    )
    assert (renewal.period_start, renewal.period_end) == (DUE, next_end)
    stored = await stored_subscription(session, subscription["id"])
    assert (stored.status, stored.current_period_end) == (SubscriptionStatus.ACTIVE, next_end)
    assert await subscriber_count(session, stored.creator_id) == 1


async def test_a_price_change_applies_at_the_next_renewal_not_to_the_paid_period(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, renew: Renew
) -> None:
    subscription, fan, owner = await _subscribed(client, session, runtime)

    repriced = await client.put(
        f"{API}/creators/me/tiers",
        json={"tiers": [{"tier": "BASIC", "price": "7.00", "currency": "USD"}]},
        headers=headers_for(runtime, owner),
    )

    assert repriced.status_code == 200, repriced.text
    current = await client.get(
        f"{API}/subscriptions/{subscription['id']}", headers=headers_for(runtime, fan)
    )
    assert current.json()["amount"] == "5.00"
    assert len(await _payments_of(session, subscription)) == 1
    assert await renew(DUE) == 1
    paid = [payment.amount for payment in await _payments_of(session, subscription)]
    assert paid == [Decimal("5.00"), Decimal("7.00")]
    assert (await stored_subscription(session, subscription["id"])).amount == Decimal("7.00")


async def test_a_downgrade_takes_effect_at_the_renewal(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, renew: Renew
) -> None:
    subscription, fan, _owner = await _subscribed(client, session, runtime, "VIP")

    waiting = await _change(client, runtime, fan, subscription["id"], tier="BASIC")

    assert (waiting["tier"], waiting["level"], waiting["amount"], waiting["next_tier"]) == (
        "VIP",
        3,
        "25.00",
        "BASIC",
    )
    assert await renew(DUE) == 1
    stored = await stored_subscription(session, subscription["id"])
    assert (stored.tier, stored.level, stored.amount, stored.next_tier) == (
        "BASIC",
        1,
        Decimal("5.00"),
        None,
    )
    renewal = (await _payments_of(session, subscription))[-1]
    assert (renewal.amount, renewal.details) == (
        Decimal("5.00"),
        {"tier": "BASIC", "renewal": True},
    )


async def test_a_cancelled_subscription_expires_at_its_period_end(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, renew: Renew
) -> None:
    subscription, fan, _owner = await _subscribed(client, session, runtime)
    cancelled = await client.delete(
        f"{API}/subscriptions/{subscription['id']}", headers=headers_for(runtime, fan)
    )
    assert cancelled.json()["status"] == "CANCELED"

    assert await renew(DUE - timedelta(seconds=1)) == 0
    creator_id = (await stored_subscription(session, subscription["id"])).creator_id
    assert await subscriber_count(session, creator_id) == 1
    assert await renew(DUE) == 1

    stored = await stored_subscription(session, subscription["id"])
    assert stored.status is SubscriptionStatus.EXPIRED
    assert await subscriber_count(session, creator_id) == 0
    assert len(await _payments_of(session, subscription)) == 1


async def test_a_declined_renewal_fails_and_a_retry_with_a_good_card_restores_it(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, renew: Renew
) -> None:
    subscription, fan, _owner = await _subscribed(client, session, runtime)
    await _change(client, runtime, fan, subscription["id"], payment_method="pm_card_declined")

    assert await renew(DUE) == 1

    failed = await stored_subscription(session, subscription["id"])
    retry_at = DUE + timedelta(hours=24)  # renewal_retry_hours
    assert (failed.status, failed.failed_attempts, failed.retry_at) == (
        SubscriptionStatus.FAILED,
        1,
        retry_at,
    )
    declined = (await _payments_of(session, subscription))[-1]
    assert (declined.status, declined.amount, declined.period_start) == (
        TransactionStatus.FAILED,
        Decimal("5.00"),
        DUE,
    )
    assert await subscriber_count(session, failed.creator_id) == 0

    await _change(client, runtime, fan, subscription["id"], payment_method="pm_card_ok")
    assert await renew(retry_at - timedelta(seconds=1)) == 0
    assert await renew(retry_at) == 1

    restored = await stored_subscription(session, subscription["id"])
    assert (restored.status, restored.current_period_end, restored.retry_at) == (
        SubscriptionStatus.ACTIVE,
        datetime(2030, 3, 1, 12, tzinfo=UTC),  # a month after the retry
        None,
    )
    statuses = [payment.status for payment in await _payments_of(session, subscription)]
    assert statuses == [
        TransactionStatus.COMPLETED,
        TransactionStatus.FAILED,
        TransactionStatus.COMPLETED,
    ]
    assert await subscriber_count(session, restored.creator_id) == 1


async def test_a_failed_subscription_expires_once_the_grace_period_is_over(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, renew: Renew
) -> None:
    subscription, fan, _owner = await _subscribed(client, session, runtime)
    await _change(client, runtime, fan, subscription["id"], payment_method="pm_card_declined")
    assert await renew(DUE) == 1

    assert await renew(DUE + timedelta(days=2)) == 1  # still in grace: charged again, declined
    retried = await stored_subscription(session, subscription["id"])
    assert (retried.status, retried.failed_attempts) == (SubscriptionStatus.FAILED, 2)
    assert await renew(DUE + timedelta(days=3)) == 1  # renewal_grace_days

    expired = await stored_subscription(session, subscription["id"])
    assert (expired.status, expired.retry_at) == (SubscriptionStatus.EXPIRED, None)
    statuses = [payment.status for payment in await _payments_of(session, subscription)]
    assert statuses == [TransactionStatus.COMPLETED] + [TransactionStatus.FAILED] * 2
    assert await subscriber_count(session, expired.creator_id) == 0
    assert await renew(DUE + timedelta(days=30)) == 0


async def test_two_jobs_at_once_renew_each_due_subscription_exactly_once(
    session: AsyncSession, renew: Renew
) -> None:
    creator, _owner = await paid_creator(session, subscriber_count=30)
    ends = {}
    for index in range(30):
        subscription = await make_subscription(
            session,
            await make_user(session),
            creator,
            amount=Decimal("5.00"),
            payment_method="pm_card_ok",
            current_period_end=DUE + timedelta(minutes=index),
        )
        ends[subscription.id] = DUE + timedelta(minutes=index)
    await session.commit()

    handled = await asyncio.gather(renew(DUE + timedelta(hours=1)), renew(DUE + timedelta(hours=1)))

    assert sum(handled) == 30
    periods = (
        await session.execute(
            select(Transaction.subscription_id, Transaction.period_start, Transaction.period_end)
        )
    ).all()
    stored = dict(
        (await session.execute(select(Subscription.id, Subscription.current_period_end))).all()
    )
    await session.commit()
    assert sorted((row.subscription_id, row.period_start) for row in periods) == sorted(
        ends.items()
    )
    next_ends = {key: end.replace(month=2, day=28) for key, end in ends.items()}
    assert {row.subscription_id: row.period_end for row in periods} == next_ends
    assert stored == next_ends
    assert await renew(DUE + timedelta(hours=1)) == 0
    assert await subscriber_count(session, creator.id) == 30


class _Unreachable(SandboxGateway):
    """The sandbox, except that one payment method's charges never get an answer."""

    def __init__(self, method: str) -> None:
        self.method = method

    async def charge(self, *, method: str, amount: Decimal, currency: str, key: str) -> Result:
        if method == self.method:
            raise ConnectionError("the provider did not answer")
        return await super().charge(method=method, amount=amount, currency=currency, key=key)


async def test_a_subscription_that_cannot_be_charged_does_not_hold_up_the_others(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    database: Database,
    settings: Settings,
) -> None:
    stuck, _fan, _owner = await _subscribed(client, session, runtime)
    fine, _other_fan, _other_owner = await _subscribed(client, session, runtime)
    await session.execute(
        update(Subscription)
        .where(Subscription.id == uuid.UUID(stuck["id"]))
        .values(payment_method="pm_card_unreachable", current_period_end=DUE - timedelta(hours=1))
    )
    await session.commit()
    payments = Payments(settings, _Unreachable("pm_card_unreachable"))

    handled = await renewals.run(database, payments, DUE + timedelta(minutes=1))

    assert handled == 1
    assert len(await _payments_of(session, fine)) == 2
    assert len(await _payments_of(session, stuck)) == 1
    assert (await stored_subscription(session, stuck["id"])).status is SubscriptionStatus.ACTIVE
