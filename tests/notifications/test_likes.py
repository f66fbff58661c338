"""Likes are told in aggregate by the worker: one notification per item, updated while
it is unread and recent, counting each like once; none for one's own like."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.db import Database
from dreamlust.kit.clock import utcnow
from dreamlust.models import Content, Notification, User
from dreamlust.models.enums import NotificationType
from dreamlust.notifications import service as notifications
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content
from tests.fixtures.money import API, paid_creator

WINDOW = timedelta(hours=1)


async def _like(client: httpx.AsyncClient, runtime: Runtime, user: User, item: Content) -> None:
    response = await client.put(f"{API}/content/{item.id}/like", headers=headers_for(runtime, user))
    assert response.status_code == 200, response.text


async def _start(database: Database) -> None:
    """The job's first run: it starts from now, leaving older likes untold."""
    assert await notifications.tell_likes(database, WINDOW, utcnow()) == 0


async def _tell(database: Database) -> int:
    """The job, run as if a minute had passed (it leaves the newest seconds alone)."""
    return await notifications.tell_likes(database, WINDOW, utcnow() + timedelta(minutes=1))


async def _likes_told(session: AsyncSession, user: User) -> list[tuple[str, int]]:
    rows = await session.scalars(
        select(Notification)
        .where(Notification.user_id == user.id, Notification.type == NotificationType.NEW_LIKE)
        .order_by(Notification.created_at)
    )
    told = [(row.title, int((row.details or {})["count"])) for row in rows]
    await session.commit()
    return told


async def test_likes_of_an_item_are_told_in_one_notification_that_grows(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, database: Database
) -> None:
    creator, owner = await paid_creator(session)
    item = await make_content(session, creator, title="Harbour")
    fans = [await make_account(session, display_name=f"Fan {n}") for n in range(4)]
    await _start(database)

    for fan in fans[:3]:
        await _like(client, runtime, fan, item)
    await _like(client, runtime, owner, item)
    assert await _tell(database) == 4
    assert await _likes_told(session, owner) == [("Fan 2 and 2 others liked Harbour", 3)]

    await _like(client, runtime, fans[3], item)
    await _tell(database)
    assert await _likes_told(session, owner) == [("Fan 3 and 3 others liked Harbour", 4)]
    assert await _tell(database) == 0


async def test_a_read_like_notification_is_left_alone_and_a_new_one_begins(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, database: Database
) -> None:
    creator, owner = await paid_creator(session)
    item = await make_content(session, creator, title="Dune")
    first, second = await make_account(session), await make_account(session)
    await _start(database)
    await _like(client, runtime, first, item)
    await _tell(database)
    read_all = await client.post(
        f"{API}/notifications/read-all", headers=headers_for(runtime, owner)
    )
    assert read_all.json() == {"marked_read": 1}

    await _like(client, runtime, second, item)
    await _tell(database)

    told = await _likes_told(session, owner)
    assert [count for _title, count in told] == [1, 1]


async def test_two_workers_telling_likes_at_once_count_each_like_once(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, database: Database
) -> None:
    creator, owner = await paid_creator(session)
    item = await make_content(session, creator)
    fans = [await make_account(session) for _ in range(12)]
    await _start(database)
    await asyncio.gather(*(_like(client, runtime, fan, item) for fan in fans))

    read = await asyncio.gather(_tell(database), _tell(database))

    assert sum(read) == 12
    assert [count for _title, count in await _likes_told(session, owner)] == [12]


async def test_a_creator_who_turned_likes_off_hears_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, database: Database
) -> None:
    creator, owner = await paid_creator(session)
    owner.preferences = {"notifications": {"likes": "off"}}
    item = await make_content(session, creator)
    fan = await make_account(session)
    await session.commit()
    await _start(database)

    await _like(client, runtime, fan, item)
    await _tell(database)

    assert await _likes_told(session, owner) == []
