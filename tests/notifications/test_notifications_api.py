"""Reading notifications: a user's own, newest first (all or unread only), the unread
count, and marking one or all read; each list read in order from an index."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.jobs.periodic import forget_old_notifications
from dreamlust.kit.clock import utcnow
from dreamlust.models import Notification, User
from dreamlust.models.enums import NotificationType
from dreamlust.notifications.repository import NEWEST_FIRST, NotificationRepository
from dreamlust.runtime import Runtime
from tests.content.test_query_plans import pages
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.plans import assert_read_in_order, query_plan

NOTIFICATIONS = "/api/v1/notifications"


async def _notified(session: AsyncSession, user: User, count: int, *, read: int = 0) -> list[str]:
    """`count` notifications for `user`, a minute apart, the oldest `read` of them read;
    their ids, newest first."""
    now = utcnow()
    made = [
        Notification(
            user_id=user.id,
            type=NotificationType.NEW_FOLLOWER,
            title=f"Notice {number}",
            created_at=now - timedelta(minutes=count - number),
            is_read=number < read,
            read_at=now if number < read else None,
            details={"number": number},
        )
        for number in range(count)
    ]
    session.add_all(made)
    await session.commit()
    return [str(notification.id) for notification in reversed(made)]


async def _walk(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query = {"limit": "3", **params} | ({"cursor": cursor} if cursor else {})
        response = await client.get(NOTIFICATIONS, params=query, headers=headers)
        assert response.status_code == 200, response.text
        seen += [item["id"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen


async def test_a_user_reads_their_own_notifications_newest_first_in_pages(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user, other = await make_account(session), await make_account(session)
    mine = await _notified(session, user, 7, read=3)
    await _notified(session, other, 2)
    headers = headers_for(runtime, user)

    assert await _walk(client, headers) == mine
    assert await _walk(client, headers, unread="true") == mine[:4]
    first = (await client.get(NOTIFICATIONS, headers=headers)).json()["items"][0]
    assert (first["title"], first["metadata"], first["is_read"]) == (
        "Notice 6",
        {"number": 6},
        False,
    )
    count = await client.get(f"{NOTIFICATIONS}/unread-count", headers=headers)
    assert count.json() == {"unread": 4}


async def test_marking_one_read_and_then_all(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user, other = await make_account(session), await make_account(session)
    newest, *_older = await _notified(session, user, 3)
    [theirs] = await _notified(session, other, 1)
    headers = headers_for(runtime, user)

    marked = await client.post(f"{NOTIFICATIONS}/{newest}/read", headers=headers)
    again = await client.post(f"{NOTIFICATIONS}/{newest}/read", headers=headers)

    assert marked.status_code == 200, marked.text
    assert (marked.json()["is_read"], marked.json()["read_at"] is not None) == (True, True)
    assert again.json()["read_at"] == marked.json()["read_at"]
    assert (await client.post(f"{NOTIFICATIONS}/{theirs}/read", headers=headers)).status_code == 404
    assert (
        await client.post(f"{NOTIFICATIONS}/{uuid.uuid4()}/read", headers=headers)
    ).status_code == 404
    everything = await client.post(f"{NOTIFICATIONS}/read-all", headers=headers)
    assert everything.json() == {"marked_read": 2}
    assert (await client.get(f"{NOTIFICATIONS}/unread-count", headers=headers)).json() == {
        "unread": 0
    }
    other_count = await client.get(
        f"{NOTIFICATIONS}/unread-count", headers=headers_for(runtime, other)
    )
    assert other_count.json() == {"unread": 1}


async def test_notifications_need_a_signed_in_user(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get(NOTIFICATIONS),
        await client.get(f"{NOTIFICATIONS}/unread-count"),
        await client.post(f"{NOTIFICATIONS}/read-all"),
    ):
        assert response.status_code == 401


@pytest.mark.parametrize("unread_only", [False, True])
async def test_notification_lists_are_read_in_order_from_an_index(
    session: AsyncSession, runtime: Runtime, backend: str, unread_only: bool
) -> None:
    index = (
        "ix_notifications_unread_user_id_created_at_id"
        if unread_only
        else "ix_notifications_user_id_created_at_id"
    )
    for page in pages(runtime, NEWEST_FIRST):
        stmt = NotificationRepository(session).of_user(uuid.uuid4(), unread_only=unread_only)
        plan = await query_plan(session, runtime.paginator.apply(stmt, NEWEST_FIRST, page))

        assert_read_in_order(plan, "notifications", {index}, backend)


async def test_the_retention_job_deletes_old_read_notifications_only(
    session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    now = utcnow()
    kept_unread, kept_recent, old_read = (
        Notification(user_id=user.id, type=NotificationType.NEW_FOLLOWER, title=title, **fields)
        for title, fields in (
            ("old but unread", {"created_at": now - timedelta(days=400)}),
            ("read lately", {"is_read": True, "read_at": now - timedelta(days=89)}),
            ("read long ago", {"is_read": True, "read_at": now - timedelta(days=91)}),
        )
    )
    session.add_all([kept_unread, kept_recent, old_read])
    await session.commit()

    await forget_old_notifications(runtime)

    titles = set(await session.scalars(select(Notification.title)))
    await session.commit()
    assert titles == {"old but unread", "read lately"}
