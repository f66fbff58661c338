"""Twenty moderators decide the same version of one report at once: one decision wins,
every other is told it is stale, and the action takes effect once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import AuditLogEntry, Content, Creator, NotificationEvent, User
from dreamlust.models.enums import ContentStatus, NotificationType, UserStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account, reload
from tests.fixtures.moderation import QUEUE, moderator, notifications_of, published, reported

MODERATORS = 20


async def _all_at_once(
    client: httpx.AsyncClient, runtime: Runtime, staff: list[User], report_id: str, body: Any
) -> list[int]:
    """Every moderator sends the decision on version 1, half with If-Match and half
    with the version in the body; the statuses."""

    def request(number: int, moderator: User) -> Any:
        headers = headers_for(runtime, moderator)
        if number % 2:
            return client.patch(
                f"{QUEUE}/{report_id}", json=body, headers={**headers, "If-Match": '"1"'}
            )
        return client.patch(f"{QUEUE}/{report_id}", json={**body, "version": 1}, headers=headers)

    responses = await asyncio.gather(*(request(n, m) for n, m in enumerate(staff)))
    for response in responses:
        if response.status_code != 200:
            assert response.headers["content-type"] == "application/problem+json"
    return [response.status_code for response in responses]


async def _count(session: AsyncSession, stmt: Any) -> int:
    value = await session.scalar(stmt)
    await session.commit()
    return int(value or 0)


@pytest.fixture
async def staff(session: AsyncSession) -> list[User]:
    return [await moderator(session) for _ in range(MODERATORS)]


async def test_twenty_moderators_ban_once(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, staff: list[User]
) -> None:
    content, owner = await published(session)
    reporter = await make_account(session)
    report = await reported(client, runtime, reporter, "CONTENT", content.id)

    statuses = await _all_at_once(
        client, runtime, staff, report["id"], {"status": "ACTION_TAKEN", "action": "BAN_USER"}
    )

    assert statuses.count(200) == 1
    assert set(statuses) - {200} <= {409, 412}
    banned = await reload(session, owner)
    assert (banned.status, banned.version) == (UserStatus.BANNED, 2)
    bans = select(func.count()).where(AuditLogEntry.action == "user.ban")
    decisions = select(func.count()).where(AuditLogEntry.action == "report.action_taken")
    assert (await _count(session, bans), await _count(session, decisions)) == (1, 1)
    assert [n["type"] for n in await notifications_of(client, runtime, reporter)] == [
        "REPORT_RESOLVED"
    ]


async def test_twenty_moderators_hide_once(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, staff: list[User]
) -> None:
    content, _owner = await published(session)
    other, _ = await published(session)
    report = await reported(client, runtime, await make_account(session), "CONTENT", content.id)

    statuses = await _all_at_once(
        client, runtime, staff, report["id"], {"status": "ACTION_TAKEN", "action": "HIDE_CONTENT"}
    )

    assert statuses.count(200) == 1
    assert set(statuses) - {200} <= {409, 412}
    counts = await session.execute(select(Creator.id, Creator.content_count))
    await session.commit()
    assert dict(counts.all()) == {
        content.creator_id: 0,
        other.creator_id: 1,
    }
    item = await session.get(Content, content.id, populate_existing=True)
    await session.commit()
    assert item is not None
    assert (item.status, item.version) == (ContentStatus.REJECTED, 2)
    hides = select(func.count()).where(AuditLogEntry.action == "content.hide")
    told = select(func.count()).where(NotificationEvent.type == NotificationType.CONTENT_REJECTED)
    assert (await _count(session, hides), await _count(session, told)) == (1, 1)
