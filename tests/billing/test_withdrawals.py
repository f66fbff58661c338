"""Withdrawals take money out of a creator's balance and never more than is there: not
past the balance, not in a currency it lacks, not twice for one Idempotency-Key, and
not when twenty concurrent requests would together overdraw it."""

import asyncio
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Creator, User
from dreamlust.models.enums import CreatorStatus, TransactionStatus, TransactionType, UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import make_account
from tests.fixtures.money import (
    SlowProvider,
    available,
    balance_by_hand,
    ledger_of,
    paid_creator,
    tip,
    withdraw,
)


async def _funded(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, *amounts: str
) -> tuple[Creator, User]:
    """A creator tipped `amounts` (USD) through the API, one fan each, and its owner."""
    creator, owner = await paid_creator(session)
    for amount in amounts:
        fan = await make_account(session)
        response = await tip(client, runtime, fan, creator, amount)
        assert response.status_code == 201, response.text
    return creator, owner


async def _withdrawals(session: AsyncSession, creator: Creator) -> list[Decimal]:
    return [
        entry.amount
        for entry in await ledger_of(session, creator.id)
        if entry.type is TransactionType.WITHDRAWAL
    ]


async def test_a_withdrawal_within_the_balance_is_paid_out(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await _funded(client, session, runtime, "30.00", "20.00")
    assert await available(session, creator.id) == Decimal("40.00")  # 50 less the 20 % fee

    response = await withdraw(client, runtime, owner, "15.00")

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["type"], body["status"], body["amount"], body["fee"]) == (
        "WITHDRAWAL",
        "COMPLETED",
        "15.00",
        "0.00",
    )
    assert (body["creator_id"], body["user_id"]) == (str(creator.id), str(owner.id))
    assert await available(session, creator.id) == Decimal("25.00")
    assert balance_by_hand(await ledger_of(session, creator.id)) == Decimal("25.00")
    # The whole rest, to the cent, may go too.
    assert (await withdraw(client, runtime, owner, "25.00")).status_code == 201
    assert await available(session, creator.id) == Decimal("0.00")


async def test_more_than_the_balance_is_a_409_and_records_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await _funded(client, session, runtime, "12.50")

    response = await withdraw(client, runtime, owner, "10.01")

    assert response.status_code == 409, response.text
    assert await _withdrawals(session, creator) == []
    assert await available(session, creator.id) == Decimal("10.00")


async def test_a_currency_without_a_balance_is_a_409(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await _funded(client, session, runtime, "100.00")

    response = await withdraw(client, runtime, owner, "1.00", "EUR")

    assert response.status_code == 409, response.text
    assert await _withdrawals(session, creator) == []
    assert await available(session, creator.id, "EUR") == Decimal("0.00")


async def test_only_creators_withdraw(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await _funded(client, session, runtime, "10.00")
    user = await make_account(session, role=UserRole.USER)

    response = await withdraw(client, runtime, user, "1.00")

    assert response.status_code == 403, response.text
    assert await _withdrawals(session, creator) == []


async def test_payouts_pause_while_the_creator_is_not_approved(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await _funded(client, session, runtime, "10.00")
    await session.execute(
        update(Creator).where(Creator.id == creator.id).values(status=CreatorStatus.SUSPENDED)
    )
    await session.commit()

    response = await withdraw(client, runtime, owner, "1.00")

    assert response.status_code == 403, response.text
    assert await _withdrawals(session, creator) == []


@pytest.mark.postgresql_only  # SQLite runs its writers one at a time: no race to lose
async def test_twenty_concurrent_withdrawals_never_overdraw_the_balance(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    creator, owner = await _funded(client, session, runtime, "10.00", "25.00", "7.35", "42.10")
    balance = await available(session, creator.id)
    assert balance == Decimal("67.56")
    share = (balance * Decimal("0.6")).quantize(Decimal("0.01"))
    # Every request has read the balance before the first payout returns, unless
    # something makes them queue.
    monkeypatch.setattr(runtime, "payments", SlowProvider(runtime.payments))

    responses = await asyncio.gather(
        *(withdraw(client, runtime, owner, str(share)) for _ in range(20))
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 19, [response.text for response in responses]
    ledger = await ledger_of(session, creator.id)
    assert [entry.amount for entry in ledger if entry.type is TransactionType.WITHDRAWAL] == [share]
    left = await available(session, creator.id)
    assert left == balance_by_hand(ledger) == balance - share
    assert left >= 0


async def test_twenty_concurrent_withdrawals_with_one_key_withdraw_once(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await _funded(client, session, runtime, "50.00")

    responses = await asyncio.gather(
        *(withdraw(client, runtime, owner, "5.00", key="one-payout") for _ in range(20))
    )

    created = [response for response in responses if response.status_code == 201]
    # 409: still in progress, possible only while the first has not answered.
    assert {response.status_code for response in responses} <= {201, 409}
    assert created, [response.text for response in responses]
    assert len({response.content for response in created}) == 1
    again = await withdraw(client, runtime, owner, "5.00", key="one-payout")
    assert (again.status_code, again.content) == (201, created[0].content)
    ledger = await ledger_of(session, creator.id)
    withdrawals = [entry for entry in ledger if entry.type is TransactionType.WITHDRAWAL]
    assert [(entry.amount, entry.status) for entry in withdrawals] == [
        (Decimal("5.00"), TransactionStatus.COMPLETED)
    ]
    assert await available(session, creator.id) == balance_by_hand(ledger) == Decimal("35.00")
