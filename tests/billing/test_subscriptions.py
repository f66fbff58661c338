"""Subscribing, changing tier, cancelling: each moves money once, keeps the period it
paid for and keeps `subscriber_count` exact."""

import asyncio
from decimal import Decimal

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Subscription, Transaction
from dreamlust.models.enums import UserStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.money import (
    API,
    paid_creator,
    subscribe,
    subscriber_count,
)


async def test_subscribing_charges_one_period_and_counts_the_subscriber(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)

    response = await subscribe(client, runtime, fan, creator, "PREMIUM")

    assert response.status_code == 201, response.text
    body = response.json()
    subscription, transaction = body["subscription"], body["transaction"]
    assert (subscription["status"], subscription["tier"], subscription["level"]) == (
        "ACTIVE",
        "PREMIUM",
        2,
    )
    assert (transaction["type"], transaction["status"], transaction["amount"]) == (
        "SUBSCRIPTION",
        "COMPLETED",
        "10.00",
    )
    assert transaction["fee"] == "2.00"  # the default 20 %
    assert transaction["period_end"] == subscription["current_period_end"]
    assert await subscriber_count(session, creator.id) == 1


async def test_twenty_concurrent_subscribes_with_one_key_make_one_subscription(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)

    responses = await asyncio.gather(
        *(subscribe(client, runtime, fan, creator, key="one-key") for _ in range(20))
    )

    created = [response for response in responses if response.status_code == 201]
    assert {response.status_code for response in responses} <= {201, 409}
    assert created, [response.text for response in responses]
    assert len({response.content for response in created}) == 1
    # Retried once the first has landed, every request gets the very same answer.
    again = await subscribe(client, runtime, fan, creator, key="one-key")
    assert again.status_code == 201
    assert again.content == created[0].content
    assert await session.scalar(select(func.count()).select_from(Subscription)) == 1
    assert await session.scalar(select(func.count()).select_from(Transaction)) == 1
    await session.commit()
    assert await subscriber_count(session, creator.id) == 1


async def test_cancel_keeps_access_to_the_period_end_and_resume_renews_again(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    subscription = (await subscribe(client, runtime, fan, creator)).json()["subscription"]
    path = f"{API}/subscriptions/{subscription['id']}"

    cancelled = await client.delete(path, headers=headers_for(runtime, fan))

    assert cancelled.status_code == 200, cancelled.text
    assert (cancelled.json()["status"], cancelled.json()["auto_renew"]) == ("CANCELED", False)
    assert cancelled.json()["current_period_end"] == subscription["current_period_end"]
    assert await subscriber_count(session, creator.id) == 1
    resumed = await client.patch(
        path,
        json={"auto_renew": True, "version": cancelled.json()["version"]},
        headers=headers_for(runtime, fan),
    )
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "ACTIVE"
    assert await subscriber_count(session, creator.id) == 1


async def test_upgrade_is_prorated_now_and_downgrade_waits_for_the_period_end(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    subscription = (await subscribe(client, runtime, fan, creator)).json()["subscription"]
    path = f"{API}/subscriptions/{subscription['id']}"

    upgraded = await client.patch(
        path,
        json={"tier": "VIP", "version": subscription["version"]},
        headers=headers_for(runtime, fan),
    )

    assert upgraded.status_code == 200, upgraded.text
    assert (upgraded.json()["tier"], upgraded.json()["level"], upgraded.json()["amount"]) == (
        "VIP",
        3,
        "25.00",
    )
    charges = list(
        await session.scalars(select(Transaction.amount).order_by(Transaction.created_at))
    )
    await session.commit()
    # Nearly the whole month is left: nearly the whole difference is owed.
    assert charges[0] == Decimal("5.00")
    assert Decimal("19.90") <= charges[1] <= Decimal("20.00")

    downgraded = await client.patch(
        path,
        json={"tier": "BASIC", "version": upgraded.json()["version"]},
        headers=headers_for(runtime, fan),
    )
    assert downgraded.status_code == 200, downgraded.text
    assert (downgraded.json()["tier"], downgraded.json()["next_tier"]) == ("VIP", "BASIC")
    assert await session.scalar(select(func.count()).select_from(Transaction)) == 2
    await session.commit()


async def test_nobody_subscribes_to_themselves_or_twice(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    fan = await make_account(session)

    assert (await subscribe(client, runtime, owner, creator)).status_code == 409
    assert (await subscribe(client, runtime, fan, creator)).status_code == 201
    assert (await subscribe(client, runtime, fan, creator, "VIP")).status_code == 409
    assert await subscriber_count(session, creator.id) == 1


async def test_a_declined_card_is_a_402_and_moves_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)

    response = await subscribe(client, runtime, fan, creator, payment_method="pm_card_declined")

    assert response.status_code == 402, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await session.scalar(select(func.count()).select_from(Subscription)) == 0
    assert await session.scalar(select(func.count()).select_from(Transaction)) == 0
    await session.commit()


async def test_suspended_accounts_cannot_pay(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    suspended = await make_account(session, status=UserStatus.SUSPENDED)

    response = await subscribe(client, runtime, suspended, creator)

    assert response.status_code == 401
    assert await session.scalar(select(func.count()).select_from(Transaction)) == 0
    await session.commit()
