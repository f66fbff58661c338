"""Content lists: filters, sorts, keyset walks, cursors and limits, and how many SQL
statements a list or a detail costs."""

from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.models import Content, ContentPurchase, Creator
from dreamlust.models.enums import ContentStatus, ContentType, CreatorStatus, UserRole
from dreamlust.runtime import Runtime
from tests.conftest import StatementCounter
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import (
    make_category,
    make_content,
    make_creator,
    make_subscription,
    make_tag,
    make_user,
)

CONTENT = "/api/v1/content"
PROBLEM = "application/problem+json"


async def walk(
    client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None, **params: Any
) -> tuple[list[str], list[int]]:
    """Follow a list's cursors to the end: the ids in order and the size of each page."""
    ids: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        ids.extend(item["id"] for item in page["items"])
        sizes.append(len(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            return ids, sizes


async def listed(client: httpx.AsyncClient, **params: Any) -> set[str]:
    ids, _sizes = await walk(client, CONTENT, **params)
    assert len(ids) == len(set(ids))
    return set(ids)


def ids_of(*items: Content) -> set[str]:
    return {str(item.id) for item in items}


# Filters


async def test_the_list_filters_by_type_category_tag_creator_and_vr(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    nature = await make_category(session, slug="nature")
    city = await make_category(session, slug="city")
    bay_area = await make_tag(session, name="bay-area")
    sunset = await make_tag(session, name="sunset")
    alice = await make_creator(session, handle="alice_films")
    bob = await make_creator(session, handle="bob_shoots")
    video = await make_content(session, alice, categories=[nature], tags=[bay_area, sunset])
    photo = await make_content(
        session, alice, type=ContentType.PHOTO, categories=[city], tags=[bay_area]
    )
    vr = await make_content(session, bob, type=ContentType.VR, categories=[nature], tags=[sunset])
    audio = await make_content(session, bob, type=ContentType.AUDIO)
    await make_content(
        session, alice, status=ContentStatus.DRAFT, categories=[nature], tags=[bay_area]
    )
    await session.commit()

    assert await listed(client) == ids_of(video, photo, vr, audio)
    assert await listed(client, type="PHOTO") == ids_of(photo)
    assert await listed(client, type="VR") == ids_of(vr)
    assert await listed(client, is_vr="true") == ids_of(vr)
    assert await listed(client, is_vr="false") == ids_of(video, photo, audio)
    assert await listed(client, type="VR", is_vr="false") == set()
    assert await listed(client, type="VIDEO", is_vr="true") == set()
    assert await listed(client, category="nature") == ids_of(video, vr)
    assert await listed(client, category="city") == ids_of(photo)
    assert await listed(client, category="cooking") == set()
    assert await listed(client, creator="alice_films") == ids_of(video, photo)
    assert await listed(client, creator="BOB_Shoots") == ids_of(vr, audio)
    assert await listed(client, creator="alice_films", category="nature") == ids_of(video)
    assert await listed(client, type="AUDIO", category="nature") == set()


@pytest.mark.parametrize("spelling", ["bay-area", "Bay Area", "BAY-AREA", "  bay   area "])
async def test_the_tag_filter_takes_any_spelling_of_the_tag(
    client: httpx.AsyncClient, session: AsyncSession, spelling: str
) -> None:
    bay_area = await make_tag(session, name="bay-area")
    creator = await make_creator(session)
    tagged = await make_content(session, creator, tags=[bay_area])
    await make_content(session, creator, tags=[await make_tag(session, name="bay")])
    await session.commit()

    assert await listed(client, tag=spelling) == ids_of(tagged)
    assert await listed(client, tag="bay-area-2") == set()


@pytest.mark.parametrize(
    "params",
    [
        {"type": "CARTOON"},
        {"type": "video"},
        {"is_vr": "maybe"},
        {"sort": "oldest"},
        {"tag": "a/b"},
        {"tag": ""},
        {"category": "x" * 101},
        {"category": "nature\nsky"},
    ],
)
async def test_malformed_filters_are_refused(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get(CONTENT, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM


async def test_an_unknown_or_hidden_creator_is_not_found(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_creator(session, handle="on_hold", status=CreatorStatus.PENDING)
    await session.commit()
    for handle in ("nobody_here", "on_hold"):
        response = await client.get(CONTENT, params={"creator": handle})
        assert response.status_code == 404, response.text


# Sorts and keyset walks


async def test_latest_sorts_by_publish_time_and_popular_by_views(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    creator = await make_creator(session)
    now = utcnow()
    old_hit = await make_content(
        session, creator, published_at=now - timedelta(days=9), view_count=10_000_000_000
    )
    fresh = await make_content(session, creator, published_at=now - timedelta(minutes=5))
    middle = await make_content(
        session, creator, published_at=now - timedelta(days=1), view_count=42
    )
    await session.commit()
    newest_first = [str(item.id) for item in (fresh, middle, old_hit)]
    most_viewed_first = [str(item.id) for item in (old_hit, middle, fresh)]

    assert (await walk(client, CONTENT))[0] == newest_first
    assert (await walk(client, CONTENT, sort="latest"))[0] == newest_first
    assert (await walk(client, CONTENT, sort="popular"))[0] == most_viewed_first
    assert (await client.get(CONTENT, params={"sort": "popular"})).json()["items"][0][
        "view_count"
    ] == 10_000_000_000


async def _crowd(session: AsyncSession) -> tuple[Creator, list[Content]]:
    """Many items sharing few publish times, view counts and creation times, mixed with
    items the public never sees; returns the creator and the visible items."""
    creator = await make_creator(session)
    now = utcnow()
    moments = [now - timedelta(hours=hours) for hours in (1, 2, 3)]
    visible: list[Content] = []
    for index in range(31):
        fields: dict[str, Any] = {
            "published_at": moments[index % 3],
            "view_count": (index % 4) * 1000,
            "created_at": moments[index % 2],
        }
        if index % 7 == 3:
            await make_content(session, creator, is_nsfw=True, **fields)
        elif index % 7 == 5:
            await make_content(session, creator, is_public=False, **fields)
        else:
            visible.append(await make_content(session, creator, **fields))
    await make_content(session, creator, status=ContentStatus.DRAFT, created_at=moments[0])
    await session.commit()
    return creator, visible


@pytest.mark.parametrize("limit", [1, 4, 7, 100])
async def test_walks_over_equal_sort_keys_see_every_visible_item_once_in_order(
    client: httpx.AsyncClient, session: AsyncSession, limit: int
) -> None:
    creator, visible = await _crowd(session)
    latest = [
        str(c.id) for c in sorted(visible, key=lambda c: (c.published_at, c.id), reverse=True)
    ]
    popular = [str(c.id) for c in sorted(visible, key=lambda c: (c.view_count, c.id), reverse=True)]
    creator_page = f"/api/v1/creators/{creator.handle}/content"

    for path in (CONTENT, creator_page):
        for sort, expected in (("latest", latest), ("popular", popular)):
            ids, sizes = await walk(client, path, sort=sort, limit=limit)
            assert ids == expected, (path, sort)
            assert all(size == limit for size in sizes[:-1])
            assert 0 < sizes[-1] <= limit


async def test_the_owner_walks_all_their_content_newest_created_first(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_user(session, role=UserRole.CREATOR, is_creator=True)
    creator = await make_creator(session, user=owner)
    moments = [utcnow() - timedelta(hours=hours) for hours in (1, 2)]
    items = [
        await make_content(
            session,
            creator,
            created_at=moments[index % 2],
            status=ContentStatus.DRAFT if index % 3 else ContentStatus.PUBLISHED,
            is_nsfw=index % 5 == 0,
        )
        for index in range(17)
    ]
    await make_content(session, creator, created_at=moments[0], deleted_at=utcnow())
    await session.commit()
    expected = [str(c.id) for c in sorted(items, key=lambda c: (c.created_at, c.id), reverse=True)]

    ids, _sizes = await walk(
        client, f"/api/v1/creators/{creator.handle}/content", headers_for(runtime, owner), limit=3
    )

    assert ids == expected


# Cursors and limits


async def test_a_tampered_or_foreign_cursor_is_a_bad_request(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    creator = await make_creator(session)
    for _ in range(3):
        await make_content(session, creator)
    await session.commit()
    cursor = (await client.get(CONTENT, params={"limit": 1})).json()["next_cursor"]
    assert cursor
    middle = len(cursor) // 2
    flipped = cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1 :]

    for bad, params in (
        (flipped, {}),
        (cursor[:-3], {}),
        (cursor + "AAAA", {}),
        ("not-a-cursor", {}),
        ("%%%", {}),
        (cursor, {"sort": "popular"}),
    ):
        response = await client.get(CONTENT, params={"cursor": bad, **params})
        assert response.status_code == 400, (bad, params, response.text)
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["type"].endswith("invalid-cursor")

    assert (await client.get(CONTENT, params={"cursor": cursor})).status_code == 200


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "1.5"])
async def test_a_limit_outside_1_to_100_is_refused(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get(CONTENT, params={"limit": limit})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["loc"] == ["query", "limit"]


async def test_limits_of_1_and_100_are_accepted(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    creator = await make_creator(session)
    for _ in range(101):
        await make_content(session, creator)
    await session.commit()

    one = (await client.get(CONTENT, params={"limit": 1})).json()
    hundred = (await client.get(CONTENT, params={"limit": 100})).json()
    default = (await client.get(CONTENT)).json()

    assert (len(one["items"]), len(hundred["items"]), len(default["items"])) == (1, 100, 20)
    assert hundred["next_cursor"] is not None


# Statement counts


async def _catalogue(session: AsyncSession, size: int, **fields: Any) -> list[Content]:
    """Items by several creators, each with categories and tags."""
    categories = [await make_category(session) for _ in range(3)]
    tags = [await make_tag(session) for _ in range(4)]
    creators = [await make_creator(session) for _ in range(5)]
    items = [
        await make_content(
            session,
            creators[index % 5],
            categories=categories[: index % 3 + 1],
            tags=tags[: index % 4 + 1],
            **fields,
        )
        for index in range(size)
    ]
    await session.commit()
    return items


async def test_reading_one_item_takes_one_statement(
    client: httpx.AsyncClient, session: AsyncSession, count_statements: StatementCounter
) -> None:
    [item] = await _catalogue(session, 1)
    count_statements.clear()

    response = await client.get(f"{CONTENT}/{item.id}")

    assert response.status_code == 200, response.text
    assert len(response.json()["tags"]) == 1
    assert count_statements.count == 1, count_statements.statements


@pytest.mark.parametrize("size", [20, 40])
async def test_a_page_takes_one_statement_however_many_items_there_are(
    client: httpx.AsyncClient,
    session: AsyncSession,
    count_statements: StatementCounter,
    size: int,
) -> None:
    await _catalogue(session, size)
    count_statements.clear()

    response = await client.get(CONTENT)

    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == 20
    assert count_statements.count == 1, count_statements.statements


async def test_a_signed_in_page_with_premium_items_takes_three_statements_more(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    count_statements: StatementCounter,
) -> None:
    items = await _catalogue(session, 20, is_premium=True, price=Decimal("4.99"), currency="USD")
    viewer = await make_account(session)
    session.add(
        ContentPurchase(
            user_id=viewer.id, content_id=items[0].id, amount=Decimal("4.99"), currency="USD"
        )
    )
    subscribed = await session.get(Creator, items[1].creator_id)
    assert subscribed is not None
    await make_subscription(session, viewer, subscribed)
    await session.commit()
    headers = headers_for(runtime, viewer)
    count_statements.clear()

    response = await client.get(CONTENT, headers=headers)

    assert response.status_code == 200, response.text
    # the account, the page, the viewer's purchases and subscriptions among its items
    assert count_statements.count == 1 + 3, count_statements.statements
    unlocked = {item["id"] for item in response.json()["items"] if not item["is_locked"]}
    expected = {str(items[0].id)} | {
        str(item.id) for item in items if item.creator_id == subscribed.id
    }
    assert unlocked == expected
