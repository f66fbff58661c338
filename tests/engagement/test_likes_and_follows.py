"""Likes and follows: idempotent, and their counters exact under concurrency."""

import asyncio
import random

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Content, Creator, Follow, Like
from dreamlust.models.enums import ContentStatus, UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content, make_creator


async def _counts(session: AsyncSession, content: Content) -> tuple[int, int, int]:
    """(like rows, content.like_count, creator.total_likes), read afresh."""
    rows = await session.scalar(select(func.count()).where(Like.content_id == content.id))
    count = await session.scalar(select(Content.like_count).where(Content.id == content.id))
    total = await session.scalar(
        select(Creator.total_likes).where(Creator.id == content.creator_id)
    )
    await session.commit()
    return int(rows or 0), int(count or 0), int(total or 0)


async def test_liking_is_idempotent_and_returns_the_count(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content = await make_content(session, await make_creator(session))
    user = await make_account(session)
    path, headers = f"/api/v1/content/{content.id}/like", headers_for(runtime, user)

    assert (await client.put(path, headers=headers)).json() == {"liked": True, "like_count": 1}
    assert (await client.put(path, headers=headers)).json() == {"liked": True, "like_count": 1}
    assert (await client.delete(path, headers=headers)).json() == {
        "liked": False,
        "like_count": 0,
    }
    assert (await client.delete(path, headers=headers)).json()["like_count"] == 0
    assert await _counts(session, content) == (0, 0, 0)


async def test_sixty_four_concurrent_likes_by_one_user_make_one_like(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content = await make_content(session, await make_creator(session))
    user = await make_account(session)
    path, headers = f"/api/v1/content/{content.id}/like", headers_for(runtime, user)

    responses = await asyncio.gather(*(client.put(path, headers=headers) for _ in range(64)))

    assert {response.status_code for response in responses} == {200}
    assert await _counts(session, content) == (1, 1, 1)


async def test_random_concurrent_toggles_keep_the_count_equal_to_the_rows(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content = await make_content(session, await make_creator(session))
    users = [await make_account(session) for _ in range(40)]
    path = f"/api/v1/content/{content.id}/like"
    rng = random.Random(5)

    async def toggle(headers: dict[str, str]) -> None:
        for _ in range(4):
            method = client.put if rng.random() < 0.6 else client.delete
            assert (await method(path, headers=headers)).status_code == 200

    await asyncio.gather(*(toggle(headers_for(runtime, user)) for user in users))

    rows, count, total = await _counts(session, content)
    assert rows == count == total


async def test_hidden_content_cannot_be_liked(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    draft = await make_content(session, await make_creator(session), status=ContentStatus.DRAFT)
    user = await make_account(session)
    path = f"/api/v1/content/{draft.id}/like"
    assert (await client.put(path)).status_code == 401
    assert (await client.put(path, headers=headers_for(runtime, user))).status_code == 404


async def test_follows_are_idempotent_counted_and_listed(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator = await make_creator(session)
    other = await make_creator(session)
    fan = await make_account(session)
    headers = headers_for(runtime, fan)
    for _ in range(2):
        followed = await client.put(f"/api/v1/creators/{creator.handle}/follow", headers=headers)
        assert followed.json() == {"following": True, "follower_count": 1}
    await client.put(f"/api/v1/creators/{other.handle.upper()}/follow", headers=headers)

    following = await client.get("/api/v1/users/me/following", headers=headers)
    assert [item["handle"] for item in following.json()["items"]] == [other.handle, creator.handle]

    left = await client.delete(f"/api/v1/creators/{creator.handle}/follow", headers=headers)
    assert left.json() == {"following": False, "follower_count": 0}
    rows = await session.scalar(select(func.count()).select_from(Follow))
    await session.commit()
    assert rows == 1


async def test_concurrent_follows_count_once(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator = await make_creator(session)
    fan = await make_account(session)
    headers = headers_for(runtime, fan)
    path = f"/api/v1/creators/{creator.handle}/follow"
    await asyncio.gather(*(client.put(path, headers=headers) for _ in range(32)))
    count = await session.scalar(select(Creator.follower_count).where(Creator.id == creator.id))
    await session.commit()
    assert count == 1


async def test_creators_cannot_follow_themselves(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_account(session, role=UserRole.CREATOR, is_creator=True)
    creator = await make_creator(session, user=owner)
    await session.commit()
    response = await client.put(
        f"/api/v1/creators/{creator.handle}/follow", headers=headers_for(runtime, owner)
    )
    assert response.status_code == 409


async def test_the_feed_shows_visible_content_of_followed_creators_newest_first(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    followed, ignored = await make_creator(session), await make_creator(session)
    older = await make_content(session, followed, title="older")
    await make_content(session, followed, title="draft", status=ContentStatus.DRAFT)
    await make_content(session, ignored, title="not followed")
    newer = await make_content(
        session, followed, title="newer", published_at=older.published_at.replace(microsecond=0)
    )
    older.published_at = newer.published_at.replace(year=newer.published_at.year - 1)
    fan = await make_account(session)
    headers = headers_for(runtime, fan)
    await client.put(f"/api/v1/creators/{followed.handle}/follow", headers=headers)

    feed = await client.get("/api/v1/users/me/feed", headers=headers)
    assert [item["title"] for item in feed.json()["items"]] == ["newer", "older"]
    assert (await client.get("/api/v1/users/me/feed")).status_code == 401


async def test_my_likes_lists_what_i_liked_most_recent_first(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator = await make_creator(session)
    items = [await make_content(session, creator, title=f"item {n}") for n in range(5)]
    fan = await make_account(session)
    headers = headers_for(runtime, fan)
    for item in items:
        await client.put(f"/api/v1/content/{item.id}/like", headers=headers)

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/users/me/likes", params=params, headers=headers)).json()
        seen += [entry["title"] for entry in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"item {n}" for n in reversed(range(5))]
