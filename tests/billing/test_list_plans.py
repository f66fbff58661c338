"""Every money list reads its page in order from an index: my subscriptions, my
transactions and a creator's subscribers."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing.repository import (
    NEWEST_SUBSCRIPTIONS,
    NEWEST_TRANSACTIONS,
    SubscriptionRepository,
    TransactionRepository,
)
from dreamlust.runtime import Runtime
from tests.content.test_query_plans import pages
from tests.fixtures.plans import assert_read_in_order, query_plan


async def test_my_subscriptions_are_read_in_order_from_an_index(
    session: AsyncSession, runtime: Runtime, backend: str
) -> None:
    for page in pages(runtime, NEWEST_SUBSCRIPTIONS):
        stmt = SubscriptionRepository(session).of_subscriber(uuid.uuid4())
        plan = await query_plan(session, runtime.paginator.apply(stmt, NEWEST_SUBSCRIPTIONS, page))

        assert_read_in_order(
            plan, "subscriptions", {"ix_subscriptions_subscriber_id_created_at_id"}, backend
        )


async def test_a_creators_subscribers_are_read_in_order_from_an_index(
    session: AsyncSession, runtime: Runtime, backend: str
) -> None:
    for page in pages(runtime, NEWEST_SUBSCRIPTIONS):
        stmt = SubscriptionRepository(session).of_creator(uuid.uuid4())
        plan = await query_plan(session, runtime.paginator.apply(stmt, NEWEST_SUBSCRIPTIONS, page))

        assert_read_in_order(
            plan, "subscriptions", {"ix_subscriptions_creator_id_created_at_id"}, backend
        )


async def test_my_transactions_are_read_in_order_from_an_index(
    session: AsyncSession, runtime: Runtime, backend: str
) -> None:
    for page in pages(runtime, NEWEST_TRANSACTIONS):
        stmt = TransactionRepository(session).of_user(uuid.uuid4())
        plan = await query_plan(session, runtime.paginator.apply(stmt, NEWEST_TRANSACTIONS, page))

        assert_read_in_order(
            plan, "transactions", {"ix_transactions_user_id_created_at_id"}, backend
        )
