"""After a randomized concurrent workload of money requests (subscribing, renewing,
tipping, buying premium content, refunds partial and full, withdrawals, cancelling)
nothing answered a 5xx; every creator's balance in every currency is the ledger summed
by hand and not negative; no payment is refunded past its amount or its fee; and
`recount --check` finds no drift, `creators.subscriber_count` included."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing import renewals
from dreamlust.billing.ledger import Payments
from dreamlust.billing.repository import creator_balances, from_cents
from dreamlust.content.entitlements import LIVE_SUBSCRIPTION
from dreamlust.counters import recount
from dreamlust.db import Database
from dreamlust.kit.clock import utcnow
from dreamlust.models import Creator, Subscription, Transaction, User
from dreamlust.models.enums import SubscriptionTier, TransactionStatus, TransactionType, UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content
from tests.fixtures.money import (
    API,
    INFLOWS,
    PRICES,
    SlowProvider,
    balance_by_hand,
    money_headers,
    paid_creator,
    refund,
    subscribe,
    tip,
    withdraw,
)

pytestmark = pytest.mark.postgresql_only  # SQLite runs its writers one at a time

SEED = 20261204
OPERATIONS = 150
WAVE = 16
CENT = Decimal("0.01")
KINDS = ["subscribe"] * 3 + ["tip"] * 3 + ["purchase"] * 2 + ["refund"] * 3 + ["withdraw"] * 3
KINDS += ["cancel"] * 2 + ["renew"]
TIER_PRICES = [
    PRICES,
    {
        SubscriptionTier.BASIC: Decimal("4.99"),
        SubscriptionTier.PREMIUM: Decimal("9.99"),
        SubscriptionTier.VIP: Decimal("24.99"),
    },
    {SubscriptionTier.BASIC: Decimal("3.33"), SubscriptionTier.VIP: Decimal("19.95")},
]


@dataclass
class World:
    """The seeded accounts and items, and what the workload learned so far (a hint for
    choosing the next operation: the responses are what decide)."""

    creators: list[tuple[Creator, User, list[str]]]  # (creator, owner, tiers offered)
    items: list[uuid.UUID]
    fans: list[User]
    admin: User
    payments: dict[str, Decimal] = field(default_factory=dict)  # id → amount
    subscriptions: list[tuple[User, str]] = field(default_factory=list)  # (fan, id)


async def _seed(session: AsyncSession) -> World:
    creators, items = [], []
    for prices in TIER_PRICES:
        creator, owner = await paid_creator(session, prices)
        creators.append((creator, owner, [tier.value for tier in prices]))
        for price, currency in ((Decimal("2.99"), "USD"), (Decimal("6.49"), "EUR")):
            content = await make_content(
                session, creator, is_premium=True, price=price, currency=currency
            )
            items.append(content.id)
    await session.commit()
    fans = [await make_account(session) for _ in range(8)]
    return World(creators, items, fans, await make_account(session, role=UserRole.ADMIN))


# An operation: (what it did, response status, response text) for every request it made.
Outcome = list[tuple[str, int, str]]
Operation = Callable[[], Awaitable[Outcome]]


def _checked(label: str, response: httpx.Response, allowed: set[int]) -> Outcome:
    ok = response.status_code in allowed
    text = response.text[:300]
    return [(label if ok else f"{label} (allowed {sorted(allowed)})", response.status_code, text)]


def _method(rng: random.Random) -> str:
    return "pm_card_declined" if rng.random() < 0.1 else "pm_card_ok"


def _choose(
    world: World,
    rng: random.Random,
    client: httpx.AsyncClient,
    runtime: Runtime,
    database: Database,
) -> Operation:
    """One operation, with every choice drawn from `rng` now, so a seed replays a run."""
    kind = rng.choice(KINDS)
    if kind == "refund" and not world.payments:
        kind = "tip"
    if kind in ("cancel", "renew") and not world.subscriptions:
        kind = "subscribe"
    fan = rng.choice(world.fans)
    creator, owner, tiers = rng.choice(world.creators)
    method = _method(rng)
    declined = {402} if method == "pm_card_declined" else set()

    if kind == "subscribe":
        tier = rng.choice(tiers)
        return lambda: _subscribe(world, client, runtime, fan, creator, tier, method, declined)
    if kind == "tip":
        amount = str(Decimal(rng.randint(100, 4000)) * CENT)
        currency = "USD" if rng.random() < 0.8 else "EUR"

        async def tipping() -> Outcome:
            response = await tip(
                client, runtime, fan, creator, amount, currency, payment_method=method
            )
            _learn_payment(world, response.json() if response.status_code == 201 else None)
            return _checked("tip", response, {201} | declined)

        return tipping
    if kind == "purchase":
        item = rng.choice(world.items)

        async def buying() -> Outcome:
            response = await client.post(
                f"{API}/content/{item}/purchase",
                json={"payment_method": method},
                headers=money_headers(runtime, fan),
            )
            created = response.status_code == 201
            _learn_payment(world, response.json()["transaction"] if created else None)
            # 409: bought already.
            return _checked("purchase", response, {201, 409} | declined)

        return buying
    if kind == "refund":
        payment, paid = rng.choice(sorted(world.payments.items()))
        partial = rng.random() < 0.5
        share = (paid * Decimal(rng.uniform(0.1, 0.6))).quantize(CENT, ROUND_DOWN)
        body = {"amount": str(max(share, CENT))} if partial else {}
        label = "refund partial" if partial else "refund full"

        async def refunding() -> Outcome:
            response = await refund(client, runtime, world.admin, payment, **body)
            # 409: refunded in full already, or more than the creator's balance can cover.
            return _checked(label, response, {201, 409})

        return refunding
    if kind == "withdraw":
        fraction = Decimal(rng.uniform(0.05, 0.9))
        return lambda: _withdraw(client, runtime, owner, fraction)
    if kind == "cancel":
        who, subscription = rng.choice(world.subscriptions)

        async def cancelling() -> Outcome:
            response = await client.delete(
                f"{API}/subscriptions/{subscription}", headers=headers_for(runtime, who)
            )
            return _checked("cancel", response, {200})

        return cancelling
    due = rng.sample(world.subscriptions, min(3, len(world.subscriptions)))
    return lambda: _renew(world, database, runtime, [subscription for _fan, subscription in due])


def _learn_payment(world: World, transaction: dict[str, str] | None) -> None:
    if transaction is not None and transaction["status"] == "COMPLETED":
        world.payments[transaction["id"]] = Decimal(transaction["amount"])


async def _subscribe(
    world: World,
    client: httpx.AsyncClient,
    runtime: Runtime,
    fan: User,
    creator: Creator,
    tier: str,
    method: str,
    declined: set[int],
) -> Outcome:
    response = await subscribe(client, runtime, fan, creator, tier, payment_method=method)
    if response.status_code == 201:
        subscription = response.json()["subscription"]["id"]
        if (fan, subscription) not in world.subscriptions:
            world.subscriptions.append((fan, subscription))
        _learn_payment(world, response.json()["transaction"])
    return _checked("subscribe", response, {201, 409} | declined)  # 409: subscribed already


async def _withdraw(
    client: httpx.AsyncClient, runtime: Runtime, owner: User, fraction: Decimal
) -> Outcome:
    read = await client.get(f"{API}/creators/me/earnings", headers=headers_for(runtime, owner))
    outcome = _checked("read earnings", read, {200})
    if read.status_code != 200:
        return outcome
    balances = [row for row in read.json()["balances"] if Decimal(row["available"]) > 0]
    balance = max(balances, key=lambda row: Decimal(row["available"]), default=None)
    currency = balance["currency"] if balance else "USD"
    wanted = Decimal(balance["available"]) * fraction if balance else Decimal(1)
    amount = max(wanted.quantize(CENT, ROUND_DOWN), CENT)
    response = await withdraw(client, runtime, owner, str(amount), currency)
    # 409: other requests took the money meanwhile.
    return outcome + _checked("withdraw", response, {201, 409})


async def _renew(
    world: World, database: Database, runtime: Runtime, subscriptions: list[str]
) -> Outcome:
    """Let some periods end, run the worker's renewal job and learn its payments; one
    outcome per subscription the job renewed or expired."""
    ids = [uuid.UUID(subscription) for subscription in subscriptions]
    async with database.transaction() as session:
        await session.execute(
            update(Subscription)
            .where(Subscription.id.in_(ids), Subscription.status.in_(LIVE_SUBSCRIPTION))
            .values(current_period_end=utcnow() - timedelta(minutes=1))
        )
    handled = await renewals.run(database, Payments(runtime.settings, runtime.payments), utcnow())
    async with database.transaction(write=False) as session:
        renewed = await session.execute(
            select(Transaction.id, Transaction.amount).where(
                Transaction.type == TransactionType.SUBSCRIPTION,
                Transaction.status == TransactionStatus.COMPLETED,
            )
        )
        world.payments.update({str(id_): amount for id_, amount in renewed})
    return [("renewal", 200, "")] * handled


async def _ledger(session: AsyncSession) -> dict[tuple[uuid.UUID, str], list[Transaction]]:
    by_account: dict[tuple[uuid.UUID, str], list[Transaction]] = defaultdict(list)
    for entry in await session.scalars(select(Transaction)):
        if entry.creator_id is not None:
            by_account[entry.creator_id, entry.currency].append(entry)
    await session.commit()
    return by_account


async def test_a_random_concurrent_money_workload_keeps_every_balance_exact(
    client: httpx.AsyncClient,
    session: AsyncSession,
    database: Database,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = await _seed(session)
    # The factories leave the creators' content_count alone: start from exact counters.
    async with database.transaction() as transaction:
        await recount.recount(transaction)
    # The provider answers after a moment, as over a network: requests overlap.
    monkeypatch.setattr(runtime, "payments", SlowProvider(runtime.payments, delay=0.02))
    rng = random.Random(SEED)
    done: Counter[str] = Counter()

    for start in range(0, OPERATIONS, WAVE):
        wave = [
            _choose(world, rng, client, runtime, database)
            for _ in range(min(WAVE, OPERATIONS - start))
        ]
        outcomes = await asyncio.gather(*(operation() for operation in wave))
        for label, status, text in (entry for outcome in outcomes for entry in outcome):
            assert status < 500, f"seed {SEED}, wave at {start}: {label} → {status} {text}"
            assert "allowed" not in label, (
                f"seed {SEED}, wave at {start}: {label} → {status} {text}"
            )
            done[f"{label} {status}"] += 1

    ledger = await _ledger(session)
    views = {
        (row.creator_id, row.currency): from_cents(row.available_cents)
        for row in await session.execute(select(creator_balances))
    }
    await session.commit()
    assert set(views) == set(ledger)
    for account, entries in ledger.items():
        by_hand = balance_by_hand(entries, account[1])
        assert views[account] == by_hand, f"seed {SEED}: {account} {views[account]} ≠ {by_hand}"
        assert by_hand >= 0, f"seed {SEED}: {account} is {by_hand}"
    for entries in ledger.values():
        for payment in (entry for entry in entries if entry.type in INFLOWS):
            refunds = [entry for entry in entries if entry.refund_of_id == payment.id]
            assert sum(entry.amount for entry in refunds) <= payment.amount, (SEED, payment.id)
            assert sum(entry.fee for entry in refunds) <= payment.fee, (SEED, payment.id)
            assert all(entry.fee >= 0 for entry in refunds), (SEED, payment.id)

    drifts = await recount.check(session)
    await session.commit()
    off = [drift for drift in drifts if drift.rows or drift.difference]
    assert off == [], f"seed {SEED}: drift after the workload {off}; done {dict(done)}"
    assert "creators.subscriber_count" in {drift.counter for drift in drifts}

    # The workload did something of every kind, so the checks above are not of nothing.
    for kind, least in (
        ("subscribe 201", 5),
        ("tip 201", 5),
        ("purchase 201", 3),
        ("refund partial 201", 2),
        ("refund full 201", 2),
        ("withdraw 201", 3),
        ("withdraw 409", 1),
        ("cancel 200", 2),
        ("renewal 200", 2),
    ):
        assert done[kind] >= least, f"seed {SEED}: only {done[kind]} {kind}; {dict(done)}"
