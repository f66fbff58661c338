"""Content over HTTP: create, publish, read, edit, delete and restore."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Creator, Tag
from dreamlust.models.enums import UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_category, make_creator

VIDEO = {
    "title": "Sunset over the bay",
    "type": "VIDEO",
    "description": "Golden hour.",
    "tags": ["Sunset", "bay area", "sunset"],
    "media_url": "https://cdn.example.com/v/1.mp4",
    "duration": 95,
    "width": 1920,
    "height": 1080,
}


async def _creator_headers(
    session: AsyncSession, runtime: Runtime
) -> tuple[Creator, dict[str, str]]:
    user = await make_account(session, role=UserRole.CREATOR, is_creator=True)
    creator = await make_creator(session, user=user)
    await session.commit()
    return creator, headers_for(runtime, user)


async def _content_count(session: AsyncSession, creator: Creator) -> int:
    count = await session.scalar(select(Creator.content_count).where(Creator.id == creator.id))
    await session.commit()
    return int(count or 0)


async def _usage(session: AsyncSession) -> dict[str, int]:
    usage = dict((await session.execute(select(Tag.name, Tag.usage_count))).all())
    await session.commit()
    return usage


async def test_a_creator_publishes_a_video_that_anyone_can_then_read(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    category = await make_category(session, slug="nature")
    await session.commit()
    creator, headers = await _creator_headers(session, runtime)

    created = await client.post(
        "/api/v1/content", json={**VIDEO, "categories": ["nature"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["status"] == "DRAFT"
    assert item["tags"] == ["bay-area", "sunset"]
    assert item["categories"] == [{"slug": "nature", "name": category.name}]
    assert item["creator"]["handle"] == creator.handle

    anonymous = await client.get(f"/api/v1/content/{item['id']}")
    assert anonymous.status_code == 404, "a draft is invisible to others"

    published = await client.post(f"/api/v1/content/{item['id']}/publish", headers=headers)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "PUBLISHED"

    read = await client.get(f"/api/v1/content/{item['id']}")
    assert read.status_code == 200
    assert read.headers["etag"] == f'"{read.json()["version"]}"'
    listed = await client.get("/api/v1/content")
    assert [entry["id"] for entry in listed.json()["items"]] == [item["id"]]

    assert await _content_count(session, creator) == 1
    assert await _usage(session) == {"sunset": 1, "bay-area": 1}


async def test_delete_and_restore_keep_counters_exact(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, headers = await _creator_headers(session, runtime)
    item = (await client.post("/api/v1/content", json=VIDEO, headers=headers)).json()
    await client.post(f"/api/v1/content/{item['id']}/publish", headers=headers)

    assert (
        await client.delete(f"/api/v1/content/{item['id']}", headers=headers)
    ).status_code == 204
    assert (await client.get(f"/api/v1/content/{item['id']}")).status_code == 404
    assert await _content_count(session, creator) == 0
    assert set((await _usage(session)).values()) == {0}

    restored = await client.post(f"/api/v1/content/{item['id']}/restore", headers=headers)
    assert restored.status_code == 200, restored.text
    assert await _content_count(session, creator) == 1
    assert set((await _usage(session)).values()) == {1}


async def test_editing_needs_the_current_version(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _creator, headers = await _creator_headers(session, runtime)
    item = (await client.post("/api/v1/content", json=VIDEO, headers=headers)).json()
    path = f"/api/v1/content/{item['id']}"

    assert (await client.patch(path, json={"title": "x"}, headers=headers)).status_code == 428
    for required in ("title", "is_public", "is_premium"):
        cleared = await client.patch(
            path, json={required: None}, headers={**headers, "If-Match": '"1"'}
        )
        assert cleared.status_code == 422, required
        assert cleared.json()["errors"][0]["loc"] == ["body", required]
    stale = await client.patch(path, json={"title": "x"}, headers={**headers, "If-Match": '"9"'})
    assert stale.status_code == 412
    fresh = await client.patch(
        path,
        json={"title": "New title", "tags": ["bay-area"]},
        headers={**headers, "If-Match": '"1"'},
    )
    assert fresh.status_code == 200, fresh.text
    assert fresh.json()["version"] == 2
    assert await _usage(session) == {"sunset": 0, "bay-area": 1}


async def test_other_users_cannot_touch_content(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _creator, headers = await _creator_headers(session, runtime)
    item = (await client.post("/api/v1/content", json=VIDEO, headers=headers)).json()
    _other, other_headers = await _creator_headers(session, runtime)
    path = f"/api/v1/content/{item['id']}"
    assert (await client.delete(path)).status_code == 401
    assert (await client.delete(path, headers=other_headers)).status_code == 404
    assert (await client.post(f"{path}/publish", headers=other_headers)).status_code == 404
    patch = await client.patch(
        path, json={"title": "x"}, headers={**other_headers, "If-Match": '"1"'}
    )
    assert patch.status_code == 404
