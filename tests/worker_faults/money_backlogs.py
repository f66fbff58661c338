"""Backlogs of the money jobs: subscriptions due for renewal, expired idempotency keys."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, text

from dreamlust.billing.periods import period_end
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.models import Subscription
from dreamlust.models.enums import BillingInterval, SubscriptionStatus, SubscriptionTier
from tests.fixtures.factories import make_user, make_users_in_bulk
from tests.fixtures.money import PRICES, available, balance_by_hand, ledger_of, paid_creator
from tests.fixtures.worker_process import statement_running
from tests.worker_faults.scene import Scene


@dataclass
class DueSubscriptions:
    """Monthly subscriptions whose paid period is over, each renewed (charged) in a
    transaction of its own."""

    subscribers: int = 300
    variables: dict[str, str] = field(default_factory=dict)
    period_ends: dict[uuid.UUID, datetime] = field(default_factory=dict)
    creator_id: uuid.UUID | None = None

    async def prepare(self, scene: Scene) -> None:
        now = utcnow()
        async with scene.session() as session:
            creator, _owner = await paid_creator(session)
            self.creator_id = creator.id
            subscribers = await make_users_in_bulk(session, self.subscribers)
            rows = []
            for number, subscriber in enumerate(subscribers):
                subscription_id = new_id()
                self.period_ends[subscription_id] = now - timedelta(hours=1, seconds=number)
                rows.append(
                    {
                        "id": subscription_id,
                        "subscriber_id": subscriber,
                        "creator_id": creator.id,
                        "tier": SubscriptionTier.BASIC,
                        "status": SubscriptionStatus.ACTIVE,
                        "amount": PRICES[SubscriptionTier.BASIC],
                        "currency": "USD",
                        "interval": BillingInterval.MONTH,
                        "started_at": now - timedelta(days=31),
                        "current_period_end": self.period_ends[subscription_id],
                    }
                )
            await session.execute(insert(Subscription), rows)
            await session.commit()

    async def _renewed(self, scene: Scene) -> int:
        return await scene.count("SELECT count(*) FROM transactions")

    async def at_work(self, scene: Scene) -> bool:
        return 0 < await self._renewed(scene) < self.subscribers

    async def assert_unfinished(self, scene: Scene) -> None:
        due = await scene.count(
            "SELECT count(*) FROM subscriptions WHERE current_period_end <= now()"
        )
        assert due > 0

    async def before_rerun(self, scene: Scene) -> None:
        return None

    async def assert_finished(self, scene: Scene) -> None:
        assert self.creator_id is not None
        subscriptions = await scene.rows(
            "SELECT id, status, current_period_end, failed_attempts FROM subscriptions"
        )
        assert {row.id: row.current_period_end for row in subscriptions} == {
            subscription_id: period_end(ended, BillingInterval.MONTH)
            for subscription_id, ended in self.period_ends.items()
        }
        assert {(row.status, row.failed_attempts) for row in subscriptions} == {("ACTIVE", 0)}
        async with scene.session() as session:
            ledger = await ledger_of(session, self.creator_id)
            balance = await available(session, self.creator_id)
        charges = {
            entry.subscription_id: (entry.period_start, entry.amount, entry.status.value)
            for entry in ledger
        }
        assert len(ledger) == len({entry.provider_reference for entry in ledger})
        assert charges == {
            subscription_id: (ended, PRICES[SubscriptionTier.BASIC], "COMPLETED")
            for subscription_id, ended in self.period_ends.items()
        }
        assert len(ledger) == self.subscribers
        assert balance == balance_by_hand(ledger) > Decimal(0)


@dataclass
class ExpiredIdempotencyKeys:
    """Idempotency records past their time, deleted in one statement: a kill before its
    commit must leave every one."""

    expired: int = 60_000
    variables: dict[str, str] = field(default_factory=dict)

    async def prepare(self, scene: Scene) -> None:
        now = utcnow()
        async with scene.session() as session:
            user = await make_user(session)
            for prefix, count, expires_at in (
                ("old", self.expired, now - timedelta(hours=1)),
                ("kept", 100, now + timedelta(hours=1)),
            ):
                await session.execute(
                    _RECORDS_SQL,
                    {"user": user.id, "prefix": prefix, "count": count, "expires_at": expires_at},
                )
            await session.commit()

    async def _expired(self, scene: Scene) -> int:
        return await scene.count(
            "SELECT count(*) FROM idempotency_records WHERE expires_at <= now()"
        )

    async def at_work(self, scene: Scene) -> bool:
        return await statement_running(scene.database, "DELETE FROM idempotency_records%")

    async def assert_unfinished(self, scene: Scene) -> None:
        assert await self._expired(scene) == self.expired

    async def before_rerun(self, scene: Scene) -> None:
        return None

    async def assert_finished(self, scene: Scene) -> None:
        assert await self._expired(scene) == 0
        kept = await scene.count("SELECT count(*) FROM idempotency_records WHERE key LIKE 'kept-%'")
        assert kept == 100


_RECORDS_SQL = text(
    "INSERT INTO idempotency_records (id, user_id, key, request_hash, expires_at) "
    "SELECT gen_random_uuid(), :user, :prefix || '-' || number, md5(number::text), "
    "CAST(:expires_at AS timestamptz) FROM generate_series(1, :count) AS number"
)
