"""Optional auto-hide: published content whose open reports weigh enough leaves every
listing in the reporting transaction; dismissing the reports, or staff approving it,
puts it back as it was, announced to nobody again, with its creator's count exact."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.counters import recount
from dreamlust.models import Content, Creator, NotificationEvent, User
from dreamlust.models.enums import ContentStatus, NotificationType, UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_creator
from tests.fixtures.moderation import (
    API,
    AUDIT,
    api_with,
    decided,
    every_page,
    moderator,
    published,
    reported,
)

THRESHOLD = 0.05  # three reporters without history (0.02 each)


@pytest.fixture
async def hiding(
    settings: Settings, runtime: Runtime
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    """The API of a deployment that auto-hides content at `THRESHOLD`."""
    async with api_with(settings, runtime, moderation_auto_hide_score=THRESHOLD) as api:
        yield api


async def _published_through_the_api(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> tuple[dict[str, Any], User]:
    owner = await make_account(session, role=UserRole.CREATOR, is_creator=True)
    await make_creator(session, user=owner)
    await session.commit()
    headers = headers_for(runtime, owner)
    body = {"title": "Borderline", "type": "VIDEO", "media_url": "https://cdn/b.mp4", "duration": 9}
    created = await client.post(f"{API}/content", json=body, headers=headers)
    published = await client.post(f"{API}/content/{created.json()['id']}/publish", headers=headers)
    assert published.status_code == 200, published.text
    item: dict[str, Any] = published.json()
    return item, owner


async def _state(session: AsyncSession, content_id: str) -> tuple[ContentStatus, Any, int, int]:
    """The item's status and publish time, its creator's count, and how many times
    its upload was announced."""
    content = await session.get(Content, uuid.UUID(content_id), populate_existing=True)
    assert content is not None
    creator = await session.get(Creator, content.creator_id, populate_existing=True)
    assert creator is not None
    announced = await session.scalar(
        select(func.count()).where(NotificationEvent.type == NotificationType.NEW_UPLOAD)
    )
    await session.commit()
    return content.status, content.published_at, creator.content_count, int(announced or 0)


async def _no_drift(session: AsyncSession) -> None:
    drifts = await recount.check(session)
    await session.commit()
    assert [drift for drift in drifts if drift.rows] == []


async def _report_until_hidden(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, content_id: str
) -> list[dict[str, Any]]:
    reports = []
    for _ in range(3):
        reporter = await make_account(session)
        reports.append(await reported(client, runtime, reporter, "CONTENT", content_id))
        listed = await client.get(f"{API}/content/{content_id}")
        assert listed.status_code == (404 if len(reports) == 3 else 200), len(reports)
    return reports


async def test_enough_reports_hide_published_content_and_dismissing_them_brings_it_back(
    hiding: tuple[httpx.AsyncClient, Runtime], session: AsyncSession
) -> None:
    client, runtime = hiding
    item, _owner = await _published_through_the_api(client, runtime, session)
    staff = await moderator(session)
    status, published_at, count, announced = await _state(session, item["id"])
    assert (status, count, announced) == (ContentStatus.PUBLISHED, 1, 1)

    reports = await _report_until_hidden(client, runtime, session, item["id"])

    assert await _state(session, item["id"]) == (ContentStatus.PENDING_REVIEW, published_at, 0, 1)
    assert (await client.get(f"{API}/content")).json()["items"] == []
    await _no_drift(session)
    [hidden] = await every_page(client, runtime, staff, AUDIT, action="content.auto_hide")
    assert (hidden["actor"], hidden["target_id"]) == (None, item["id"])
    assert (hidden["details"]["before"], hidden["details"]["after"]) == (
        {"status": "PUBLISHED"},
        {"status": "PENDING_REVIEW"},
    )

    await decided(client, runtime, staff, reports[0]["id"], "DISMISSED")

    assert await _state(session, item["id"]) == (ContentStatus.PUBLISHED, published_at, 1, 1)
    assert (await client.get(f"{API}/content/{item['id']}")).status_code == 200
    await _no_drift(session)
    [released] = await every_page(client, runtime, staff, AUDIT, action="content.release")
    assert (released["actor"]["id"], released["details"]["after"]) == (
        str(staff.id),
        {"status": "PUBLISHED"},
    )


async def test_staff_approving_hidden_content_restores_it_without_a_new_announcement(
    hiding: tuple[httpx.AsyncClient, Runtime], session: AsyncSession
) -> None:
    client, runtime = hiding
    item, _owner = await _published_through_the_api(client, runtime, session)
    staff = await moderator(session)
    _, published_at, _, _ = await _state(session, item["id"])
    reports = await _report_until_hidden(client, runtime, session, item["id"])

    approved = await client.post(
        f"{API}/content/{item['id']}/review",
        json={"decision": "approve"},
        headers=headers_for(runtime, staff),
    )

    assert approved.status_code == 200, approved.text
    assert await _state(session, item["id"]) == (ContentStatus.PUBLISHED, published_at, 1, 1)
    await _no_drift(session)
    await decided(client, runtime, staff, reports[1]["id"], "DISMISSED")
    assert await _state(session, item["id"]) == (ContentStatus.PUBLISHED, published_at, 1, 1)
    assert await every_page(client, runtime, staff, AUDIT, action="content.release") == []


async def test_taking_hidden_content_down_keeps_the_count_exact(
    hiding: tuple[httpx.AsyncClient, Runtime], session: AsyncSession
) -> None:
    client, runtime = hiding
    item, _owner = await _published_through_the_api(client, runtime, session)
    staff = await moderator(session)
    reports = await _report_until_hidden(client, runtime, session, item["id"])

    await decided(client, runtime, staff, reports[2]["id"], "ACTION_TAKEN", action="HIDE_CONTENT")

    status, _, count, _ = await _state(session, item["id"])
    assert (status, count) == (ContentStatus.REJECTED, 0)
    await _no_drift(session)


async def test_without_the_setting_reports_never_hide_content(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content, _owner = await published(session)

    for _ in range(5):
        await reported(client, runtime, await make_account(session), "CONTENT", content.id)

    assert (await client.get(f"{API}/content/{content.id}")).status_code == 200
