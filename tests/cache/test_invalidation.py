"""A write shows on the very next read of every cached answer it changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content import service as content_service
from dreamlust.content import trending
from dreamlust.kit.clock import utcnow
from dreamlust.models import Content, Like, User
from dreamlust.models.enums import ContentStatus, UserRole
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.cache import CachedApi, lookups
from tests.fixtures.factories import make_category, make_content, make_creator
from tests.fixtures.moderation import decided, reported

API = "/api/v1"
TRENDING = f"{API}/content/trending"


async def published(session: AsyncSession, **fields: Any) -> tuple[Content, User]:
    owner = await make_account(session, role=UserRole.CREATOR, is_creator=True)
    creator = await make_creator(session, user=owner)
    content = await make_content(session, creator, trending_24h=5.0, **fields)
    await session.commit()
    return content, owner


async def detail(client: httpx.AsyncClient, content: Content) -> httpx.Response:
    return await client.get(f"{API}/content/{content.id}")


async def trending_titles(client: httpx.AsyncClient) -> list[str]:
    response = await client.get(TRENDING)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def cached_twice(api: CachedApi, content: Content) -> None:
    """Detail and trending read twice: the second read of each is a hit."""
    hits = lookups("content", "hit"), lookups("trending", "hit")
    for _ in range(2):
        assert (await detail(api.client, content)).status_code == 200
        await trending_titles(api.client)
    assert (lookups("content", "hit"), lookups("trending", "hit")) == (hits[0] + 1, hits[1] + 1)


async def test_an_edit_shows_on_the_next_read(api: CachedApi, session: AsyncSession) -> None:
    content, owner = await published(session, title="Before")
    await cached_twice(api, content)

    response = await api.client.patch(
        f"{API}/content/{content.id}",
        json={"title": "After"},
        headers={**headers_for(api.runtime, owner), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text

    read = await detail(api.client, content)
    assert (read.json()["title"], read.headers["etag"]) == ("After", '"2"')
    assert await trending_titles(api.client) == ["After"]


async def test_a_delete_and_a_restore_show_on_the_next_read(
    api: CachedApi, session: AsyncSession
) -> None:
    content, owner = await published(session, title="Here")
    await cached_twice(api, content)
    owner_headers = headers_for(api.runtime, owner)

    deleted = await api.client.delete(f"{API}/content/{content.id}", headers=owner_headers)
    assert deleted.status_code == 204, deleted.text
    assert (await detail(api.client, content)).status_code == 404
    assert await trending_titles(api.client) == []

    restored = await api.client.post(f"{API}/content/{content.id}/restore", headers=owner_headers)
    assert restored.status_code == 200, restored.text
    assert (await detail(api.client, content)).status_code == 200
    assert await trending_titles(api.client) == ["Here"]


async def test_a_moderation_take_down_shows_on_the_next_read(
    api: CachedApi, session: AsyncSession
) -> None:
    content, _owner = await published(session, title="Spam")
    reporter = await make_account(session)
    staff = await make_account(session, role=UserRole.MODERATOR)
    await cached_twice(api, content)

    report = await reported(api.client, api.runtime, reporter, "CONTENT", content.id)
    await decided(
        api.client, api.runtime, staff, report["id"], "ACTION_TAKEN", action="hide_content"
    )

    assert (await detail(api.client, content)).status_code == 404
    assert await trending_titles(api.client) == []


async def test_publishing_shows_on_the_next_read(api: CachedApi, session: AsyncSession) -> None:
    shown, owner = await published(session, title="Shown")
    creator_id = shown.creator_id
    draft = Content(
        creator_id=creator_id,
        title="Draft",
        type=shown.type,
        status=ContentStatus.DRAFT,
        media_url="https://cdn.example.com/draft.mp4",
        duration=60,
    )
    session.add(draft)
    await session.commit()
    assert await trending_titles(api.client) == ["Shown"]
    assert (await detail(api.client, draft)).status_code == 404

    response = await api.client.post(
        f"{API}/content/{draft.id}/publish", headers=headers_for(api.runtime, owner)
    )
    assert response.status_code == 200, response.text

    assert set(await trending_titles(api.client)) == {"Shown", "Draft"}
    assert (await detail(api.client, draft)).status_code == 200


async def test_the_scheduled_release_shows_on_the_next_read(
    api: CachedApi, session: AsyncSession
) -> None:
    shown, _owner = await published(session, title="Shown")
    due = Content(
        creator_id=shown.creator_id,
        title="Due",
        type=shown.type,
        status=ContentStatus.DRAFT,
        scheduled_at=utcnow() - timedelta(seconds=1),
    )
    session.add(due)
    await session.commit()
    assert await trending_titles(api.client) == ["Shown"]

    async with api.runtime.database.transaction() as worker:
        assert await content_service.release_scheduled(worker, api.runtime.settings, utcnow()) == 1

    assert set(await trending_titles(api.client)) == {"Shown", "Due"}


async def test_recomputed_trending_scores_show_on_the_next_read(
    api: CachedApi, session: AsyncSession
) -> None:
    await published(session, title="Old news")
    rising = await make_content(session, await make_creator(session), title="Rising")
    session.add(Like(content_id=rising.id, user_id=(await make_account(session)).id))
    await session.commit()
    assert await trending_titles(api.client) == ["Old news", "Rising"]

    async with api.runtime.database.transaction() as worker:
        await trending.refresh_all(worker, utcnow())  # old news had no views or likes

    assert await trending_titles(api.client) == ["Rising", "Old news"]


async def test_creator_and_category_edits_show_on_the_next_read(
    api: CachedApi, session: AsyncSession
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    category = await make_category(session, slug="travel", name="Travel")
    content, owner = await published(session, categories=[category])
    handle = (await api.client.get(f"{API}/content/{content.id}")).json()["creator"]["handle"]
    page = await api.client.get(f"{API}/creators/{handle}")
    assert page.status_code == 200, page.text
    assert (await api.client.get(f"{API}/categories")).json()["items"][0]["name"] == "Travel"

    renamed = await api.client.patch(
        f"{API}/creators/me",
        json={"display_name": "New Name"},
        headers={**headers_for(api.runtime, owner), "If-Match": page.headers["etag"]},
    )
    assert renamed.status_code == 200, renamed.text
    recategorized = await api.client.patch(
        f"{API}/categories/travel",
        json={"name": "Journeys"},
        headers=headers_for(api.runtime, admin),
    )
    assert recategorized.status_code == 200, recategorized.text

    page = await api.client.get(f"{API}/creators/{handle.upper()}")
    assert (page.json()["display_name"], page.headers["etag"]) == ("New Name", '"2"')
    item = (await detail(api.client, content)).json()
    assert item["creator"]["display_name"] == "New Name"
    assert item["categories"] == [{"slug": "travel", "name": "Journeys"}]
    assert (await api.client.get(f"{API}/categories")).json()["items"][0]["name"] == "Journeys"


async def test_a_suspended_creator_leaves_every_cached_answer(
    api: CachedApi, session: AsyncSession
) -> None:
    content, _owner = await published(session, title="Gone soon")
    staff = await make_account(session, role=UserRole.MODERATOR)
    await cached_twice(api, content)
    handle = (await detail(api.client, content)).json()["creator"]["handle"]
    assert (await api.client.get(f"{API}/creators/{handle}")).status_code == 200

    response = await api.client.post(
        f"{API}/admin/creators/{content.creator_id}/suspend",
        headers=headers_for(api.runtime, staff),
    )
    assert response.status_code == 200, response.text

    assert (await api.client.get(f"{API}/creators/{handle}")).status_code == 404
    assert (await detail(api.client, content)).status_code == 404
    assert await trending_titles(api.client) == []
