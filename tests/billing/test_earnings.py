"""What a creator sees of their money is the ledger summed: balances per currency
(pending payments apart), earnings grouped by day, month or year in UTC; and each
account's own transactions, newest first, and a creator's live subscribers."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Creator, Transaction, User
from dreamlust.models.enums import (
    SubscriptionStatus,
    TransactionStatus,
    TransactionType,
    UserRole,
)
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_subscription
from tests.fixtures.money import (
    API,
    INFLOWS,
    balance_by_hand,
    ledger_of,
    paid_creator,
    refund,
    subscribe,
    tip,
    withdraw,
)

COMPLETED, PENDING = TransactionStatus.COMPLETED, TransactionStatus.PENDING


def _by_hand(ledger: list[Transaction], currency: str) -> dict[str, str]:
    """The balance in `currency` summed in Python from the rows, as the API words it."""
    rows = [entry for entry in ledger if entry.currency == currency]
    paid = [entry for entry in rows if entry.type in INFLOWS and entry.status is COMPLETED]
    refunds = [
        entry
        for entry in rows
        if entry.type is TransactionType.REFUND and entry.status is COMPLETED
    ]
    pending = [entry for entry in rows if entry.type in INFLOWS and entry.status is PENDING]
    withdrawn = [
        entry
        for entry in rows
        if entry.type is TransactionType.WITHDRAWAL and entry.status in (COMPLETED, PENDING)
    ]

    def total(entries: list[Transaction], field: str) -> Decimal:
        return sum((getattr(entry, field) for entry in entries), Decimal("0.00"))

    return {
        "currency": currency,
        "available": str(balance_by_hand(ledger, currency)),
        "pending": str(total(pending, "amount") - total(pending, "fee")),
        "gross": str(total(paid, "amount")),
        "fees": str(total(paid, "fee") - total(refunds, "fee")),
        "refunded": str(total(refunds, "amount")),
        "paid_out": str(total(withdrawn, "amount")),
    }


async def _earnings(
    client: httpx.AsyncClient, runtime: Runtime, owner: User, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        f"{API}/creators/me/earnings", params=params, headers=headers_for(runtime, owner)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_balances_are_the_ledger_summed_by_hand(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    fans = [await make_account(session) for _ in range(4)]
    admin = await make_account(session, role=UserRole.ADMIN)
    assert (await subscribe(client, runtime, fans[0], creator, "PREMIUM")).status_code == 201
    tipped = await tip(client, runtime, fans[1], creator, "7.35")
    pending = await tip(
        client, runtime, fans[2], creator, "20.00", payment_method="pm_card_pending"
    )
    assert pending.json()["status"] == "PENDING"
    assert (await tip(client, runtime, fans[3], creator, "12.00", "EUR")).status_code == 201
    assert (
        await refund(client, runtime, admin, tipped.json()["id"], amount="2.35")
    ).status_code == 201
    assert (await withdraw(client, runtime, owner, "3.00")).status_code == 201

    balances = (await _earnings(client, runtime, owner))["balances"]

    ledger = await ledger_of(session, creator.id)
    assert balances == [_by_hand(ledger, "EUR"), _by_hand(ledger, "USD")]
    # 17.35 paid, 3.00 of fees (3.47 less the 0.47 the refund returned), 2.35 refunded,
    # 3.00 paid out; the pending 20.00 is only pending, net of its 4.00 fee.
    assert balances[1] == {
        "currency": "USD",
        "available": "9.00",
        "pending": "16.00",
        "gross": "17.35",
        "fees": "3.00",
        "refunded": "2.35",
        "paid_out": "3.00",
    }


def _at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def _ledger_entries(session: AsyncSession, creator: Creator, fan: User) -> None:
    """Payments on both sides of a new year and in two months of it, written directly."""

    def entry(kind: TransactionType, amount: str, at: datetime, **fields: Any) -> Transaction:
        return Transaction(
            user_id=fan.id,
            creator_id=creator.id,
            type=kind,
            status=fields.pop("status", COMPLETED),
            amount=Decimal(amount),
            fee=Decimal(fields.pop("fee", "0.00")),
            currency=fields.pop("currency", "USD"),
            created_at=at,
            **fields,
        )

    tip_in_january = entry(TransactionType.TIP, "20.00", _at(2026, 1, 20), fee="4.00")
    session.add_all(
        [
            entry(TransactionType.TIP, "10.00", _at(2025, 12, 31, 23, 30), fee="2.00"),
            entry(TransactionType.SUBSCRIPTION, "5.00", _at(2026, 1, 1, 0, 30), fee="1.00"),
            tip_in_january,
            entry(TransactionType.TIP, "50.00", _at(2026, 1, 22), fee="10.00", status=PENDING),
            entry(TransactionType.WITHDRAWAL, "3.00", _at(2026, 1, 23)),
            entry(TransactionType.TIP, "1.00", _at(2026, 3, 2), fee="0.20"),
            entry(TransactionType.TIP, "4.00", _at(2026, 3, 2), fee="0.80", currency="EUR"),
        ]
    )
    await session.flush()
    session.add(
        entry(
            TransactionType.REFUND,
            "5.00",
            _at(2026, 1, 20, 18),
            fee="1.00",
            refund_of_id=tip_in_january.id,
        )
    )
    await session.commit()


def _period(period: str, currency: str, gross: str, fees: str, refunded: str, net: str) -> Any:
    return {
        "period": period,
        "currency": currency,
        "gross": gross,
        "fees": fees,
        "refunded": refunded,
        "net": net,
    }


async def test_earnings_are_grouped_by_period_in_utc(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    await _ledger_entries(session, creator, await make_account(session))

    by_month = await _earnings(client, runtime, owner)
    by_year = await _earnings(client, runtime, owner, period="year")
    by_day = await _earnings(client, runtime, owner, period="day")

    # Completed inflows and refunds only: neither the pending tip nor the withdrawal.
    assert by_month["periods"] == [
        _period("2026-03", "EUR", "4.00", "0.80", "0.00", "3.20"),
        _period("2026-03", "USD", "1.00", "0.20", "0.00", "0.80"),
        _period("2026-01", "USD", "25.00", "4.00", "5.00", "16.00"),
        _period("2025-12", "USD", "10.00", "2.00", "0.00", "8.00"),
    ]
    assert by_year["periods"] == [
        _period("2026", "EUR", "4.00", "0.80", "0.00", "3.20"),
        _period("2026", "USD", "26.00", "4.20", "5.00", "16.80"),
        _period("2025", "USD", "10.00", "2.00", "0.00", "8.00"),
    ]
    assert [(row["period"], row["currency"], row["net"]) for row in by_day["periods"]] == [
        ("2026-03-02", "EUR", "3.20"),
        ("2026-03-02", "USD", "0.80"),
        ("2026-01-20", "USD", "12.00"),
        ("2026-01-01", "USD", "4.00"),
        ("2025-12-31", "USD", "8.00"),
    ]
    # The balances count every period alike: 36.00 - 6.20 of fees - 5.00 - 3.00 in USD.
    assert [row["available"] for row in by_month["balances"]] == ["3.20", "21.80"]
    # `limit` counts periods, however many currencies each has.
    latest_two = await _earnings(client, runtime, owner, limit=2)
    assert latest_two["periods"] == by_month["periods"][:3]


async def test_my_transactions_are_mine_newest_first_in_pages(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan, other = await make_account(session), await make_account(session)
    made = []
    for amount in ("1.00", "2.00", "3.00", "4.00", "5.00"):
        made.append((await tip(client, runtime, fan, creator, amount)).json()["id"])
    made.append((await subscribe(client, runtime, fan, creator)).json()["transaction"]["id"])
    assert (await tip(client, runtime, other, creator, "9.00")).status_code == 201

    listed, cursor, pages = [], None, 0
    while True:
        params = {"limit": "4"} | ({"cursor": cursor} if cursor else {})
        response = await client.get(
            f"{API}/transactions", params=params, headers=headers_for(runtime, fan)
        )
        assert response.status_code == 200, response.text
        listed += [item["id"] for item in response.json()["items"]]
        cursor, pages = response.json()["next_cursor"], pages + 1
        if cursor is None:
            break

    assert listed == made[::-1]
    assert pages == 2


async def test_my_subscribers_are_the_live_ones(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    elsewhere, _other_owner = await paid_creator(session)
    active, cancelling, gone = [await make_account(session) for _ in range(3)]
    assert (await subscribe(client, runtime, active, creator)).status_code == 201
    subscription = (await subscribe(client, runtime, cancelling, creator)).json()["subscription"]
    cancelled = await client.delete(
        f"{API}/subscriptions/{subscription['id']}", headers=headers_for(runtime, cancelling)
    )
    assert cancelled.json()["status"] == "CANCELED"
    await make_subscription(session, gone, creator, status=SubscriptionStatus.EXPIRED)
    await session.commit()
    assert (await subscribe(client, runtime, gone, elsewhere)).status_code == 201

    response = await client.get(
        f"{API}/creators/me/subscribers", headers=headers_for(runtime, owner)
    )

    assert response.status_code == 200, response.text
    assert [
        (item["username"], item["subscription"]["status"]) for item in response.json()["items"]
    ] == [(cancelling.username, "CANCELED"), (active.username, "ACTIVE")]
    plain = await client.get(f"{API}/creators/me/subscribers", headers=headers_for(runtime, gone))
    assert plain.status_code == 403
