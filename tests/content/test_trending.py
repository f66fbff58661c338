"""Trending: recent engagement outranks old views, computed in SQL as in Python."""

import random
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content import trending
from dreamlust.content.trending import Window
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.models import Content, Like, User, View
from dreamlust.models.enums import ContentStatus
from tests.fixtures.factories import make_content, make_creator, make_user


async def _engage(
    session: AsyncSession,
    content: Content,
    fan: User,
    *,
    views: list[datetime],
    likes: list[datetime],
) -> None:
    if views:
        await session.execute(
            insert(View),
            [
                {
                    "id": new_id(),
                    "content_id": content.id,
                    "viewer_hash": f"v{index}",
                    "created_at": at,
                }
                for index, at in enumerate(views)
            ],
        )
    for at in likes:
        liker = await make_user(session)
        session.add(Like(content_id=content.id, user_id=liker.id, created_at=at))
    await session.flush()


async def _titles(client: httpx.AsyncClient, window: str) -> list[str]:
    response = await client.get("/api/v1/content/trending", params={"window": window})
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


@pytest.mark.parametrize("window", ["24h", "7d"])
async def test_a_new_item_with_moderate_engagement_beats_a_week_old_hit(
    client: httpx.AsyncClient, session: AsyncSession, window: str
) -> None:
    now = utcnow()
    rng = random.Random(1)
    creator = await make_creator(session)
    fan = await make_user(session)
    old_hit = await make_content(
        session, creator, title="Old hit", published_at=now - timedelta(days=8)
    )
    fresh = await make_content(
        session, creator, title="Fresh", published_at=now - timedelta(hours=3)
    )
    await _engage(
        session,
        old_hit,
        fan,
        views=[now - timedelta(days=6, hours=rng.uniform(0, 24)) for _ in range(400)],
        likes=[now - timedelta(days=6)] * 3,
    )
    await _engage(
        session,
        fresh,
        fan,
        views=[now - timedelta(hours=rng.uniform(0, 3)) for _ in range(60)],
        likes=[now - timedelta(hours=1)] * 2,
    )
    old_hit.view_count = 400
    fresh.view_count = 60
    await trending.refresh_all(session, now)
    await session.commit()

    assert await _titles(client, window) == ["Fresh", "Old hit"]
    popular = await client.get("/api/v1/content", params={"sort": "popular"})
    assert [item["title"] for item in popular.json()["items"]] == ["Old hit", "Fresh"]


async def test_sql_scores_equal_the_python_formula(session: AsyncSession) -> None:
    now = utcnow()
    rng = random.Random(7)
    creator = await make_creator(session)
    fan = await make_user(session)
    expected: dict[object, dict[Window, float]] = {}
    for _ in range(5):
        content = await make_content(session, creator)
        views = [now - timedelta(hours=rng.uniform(0, 24 * 40)) for _ in range(rng.randint(0, 60))]
        likes = [now - timedelta(hours=rng.uniform(0, 24 * 40)) for _ in range(rng.randint(0, 5))]
        await _engage(session, content, fan, views=views, likes=likes)
        expected[content.id] = {w: trending.score(views, likes, now, w) for w in Window}
    await trending.refresh_all(session, now)
    await session.commit()

    rows = await session.execute(
        select(Content.id, Content.trending_24h, Content.trending_7d, Content.trending_30d)
    )
    for row in rows:
        stored = {Window.DAY: row[1], Window.WEEK: row[2], Window.MONTH: row[3]}
        for window, value in stored.items():
            assert value == pytest.approx(expected[row[0]][window], rel=1e-6, abs=1e-9)


async def test_scores_fall_to_zero_when_engagement_leaves_the_window(
    session: AsyncSession,
) -> None:
    now = utcnow()
    content = await make_content(session, await make_creator(session))
    await _engage(
        session, content, await make_user(session), views=[now - timedelta(hours=2)], likes=[]
    )
    scores = select(Content.trending_24h, Content.trending_7d).where(Content.id == content.id)
    await trending.refresh_all(session, now)
    day, week = (await session.execute(scores)).one()
    assert day > 0
    assert week > 0

    await trending.refresh_all(session, now + timedelta(days=2))
    day, week = (await session.execute(scores)).one()
    await session.commit()
    assert day == 0
    assert week > 0


async def test_trending_lists_only_visible_content(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    now = utcnow()
    creator = await make_creator(session)
    fan = await make_user(session)
    shown = await make_content(session, creator, title="Shown")
    draft = await make_content(session, creator, title="Draft", status=ContentStatus.DRAFT)
    nsfw = await make_content(session, creator, title="Nsfw", is_nsfw=True)
    for item in (shown, draft, nsfw):
        await _engage(session, item, fan, views=[now - timedelta(minutes=5)], likes=[])
    await trending.refresh_all(session, now)
    await session.commit()
    assert await _titles(client, "24h") == ["Shown"]


async def test_an_unknown_window_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/content/trending", params={"window": "1y"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
