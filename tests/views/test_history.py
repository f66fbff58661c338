"""Watch history: the user's own views, one entry per item (its latest view), newest first."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.models import Content, User, View
from dreamlust.models.enums import ContentStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content, make_creator
from tests.views.conftest import ViewsApp
from tests.views.test_record_view import counts

HISTORY = "/api/v1/users/me/history"


async def _items(session: AsyncSession, count: int) -> list[Content]:
    creator = await make_creator(session)
    items = [await make_content(session, creator) for _ in range(count)]
    await session.commit()
    return items


async def _watched(session: AsyncSession, user: User, item: Content, at: datetime) -> None:
    """A stored view of the item by the user, as the flush or a request leaves it."""
    session.add(View(content_id=item.id, user_id=user.id, viewer_hash="0" * 64, created_at=at))
    await session.commit()


async def _entries(client: httpx.AsyncClient, headers: dict[str, str]) -> list[tuple[str, str]]:
    """(content id, watched_at) of every entry, page after page of 3."""
    entries: list[tuple[str, str]] = []
    params: dict[str, str | int] = {"limit": 3}
    while True:
        response = await client.get(HISTORY, headers=headers, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        entries += [(entry["content"]["id"], entry["watched_at"]) for entry in page["items"]]
        if page["next_cursor"] is None:
            return entries
        params["cursor"] = page["next_cursor"]


async def test_each_item_appears_once_at_its_latest_view_newest_first(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user, other = await make_account(session), await make_account(session)
    first, second, third = await _items(session, 3)
    now = utcnow()
    await _watched(session, user, first, now - timedelta(hours=5))
    await _watched(session, user, second, now - timedelta(hours=3))
    await _watched(session, user, third, now - timedelta(hours=2))
    await _watched(session, user, first, now - timedelta(hours=1))
    await _watched(session, other, second, now)

    response = await client.get(HISTORY, headers=headers_for(runtime, user))

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["content"]["id"] for item in items] == [str(c.id) for c in (first, third, second)]
    assert items[0]["content"]["title"] == first.title
    assert datetime.fromisoformat(items[0]["watched_at"]) == now - timedelta(hours=1)


async def test_pages_hold_every_entry_once_in_order(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    items = await _items(session, 8)
    moment = utcnow() - timedelta(days=1)
    for index, item in enumerate(items):  # two items share each moment
        await _watched(session, user, item, moment + timedelta(minutes=index // 2))
    await _watched(session, user, items[0], moment - timedelta(minutes=5))  # an older view

    entries = await _entries(client, headers_for(runtime, user))

    newest_first = sorted(
        ((item.id, moment + timedelta(minutes=index // 2)) for index, item in enumerate(items)),
        key=lambda entry: (entry[1], entry[0]),
        reverse=True,
    )
    assert [entry[0] for entry in entries] == [str(item_id) for item_id, _ in newest_first]


async def test_content_the_user_may_no_longer_open_is_skipped(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    kept, drafted, deleted = await _items(session, 3)
    for item in (kept, drafted, deleted):
        await _watched(session, user, item, utcnow())
    drafted.status = ContentStatus.DRAFT
    deleted.deleted_at = utcnow()
    await session.commit()

    entries = await _entries(client, headers_for(runtime, user))

    assert [entry[0] for entry in entries] == [str(kept.id)]


async def test_recorded_views_make_the_history(views_app: ViewsApp, session: AsyncSession) -> None:
    user = await make_account(session)
    first, second = await _items(session, 2)
    headers = headers_for(views_app.runtime, user)
    for item in (first, second):
        path = f"/api/v1/content/{item.id}/views"
        assert (await views_app.client.post(path, headers=headers)).status_code == 202
    await views_app.flush()

    entries = await _entries(views_app.client, headers)

    assert [entry[0] for entry in entries] == [str(second.id), str(first.id)]


async def test_clearing_the_history_keeps_the_counts(
    views_app: ViewsApp, session: AsyncSession
) -> None:
    user = await make_account(session)
    [item] = await _items(session, 1)
    headers = headers_for(views_app.runtime, user)
    await views_app.client.post(f"/api/v1/content/{item.id}/views", headers=headers)
    await views_app.flush()

    cleared = await views_app.client.delete(HISTORY, headers=headers)

    assert cleared.status_code == 204
    assert await _entries(views_app.client, headers) == []
    assert await counts(session, item) == (1, 1, 1)
    again = await views_app.client.post(f"/api/v1/content/{item.id}/views", headers=headers)
    assert again.json() == {"counted": False}  # still the same viewer within the window


async def test_a_paused_history_records_nothing_new_but_still_counts(
    views_app: ViewsApp, session: AsyncSession
) -> None:
    user = await make_account(session)
    before, during = await _items(session, 2)
    headers = headers_for(views_app.runtime, user)
    await views_app.client.post(f"/api/v1/content/{before.id}/views", headers=headers)
    paused = await views_app.client.patch(
        "/api/v1/users/me/preferences", headers=headers, json={"hide_history": True}
    )
    assert paused.status_code == 200

    path = f"/api/v1/content/{during.id}/views"
    first = await views_app.client.post(path, headers={**headers, "User-Agent": "phone"})
    second = await views_app.client.post(path, headers={**headers, "User-Agent": "laptop"})
    await views_app.flush()

    assert (first.json(), second.json()) == ({"counted": True}, {"counted": False})
    assert await counts(session, during) == (1, 1, 2)  # the creator counts both items
    assert [entry[0] for entry in await _entries(views_app.client, headers)] == [str(before.id)]
    owners = await session.scalar(
        select(func.count()).where(View.content_id == during.id, View.user_id.is_not(None))
    )
    await session.commit()
    assert owners == 0


async def test_history_is_only_for_signed_in_users(client: httpx.AsyncClient) -> None:
    assert (await client.get(HISTORY)).status_code == 401
    assert (await client.delete(HISTORY)).status_code == 401
