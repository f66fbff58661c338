"""The visibility matrix: for every kind of viewer and every kind of item, whether the item
opens (GET /content/{id}), whether discovery lists it (GET /content), whether its creator's
page lists it (GET /creators/{handle}/content), and what of its media the viewer gets.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.models import Content, ContentPurchase, Creator, User
from dreamlust.models.enums import ContentStatus, CreatorStatus, SubscriptionStatus, UserRole
from dreamlust.runtime import Runtime
from dreamlust.search import index as search_index
from tests.fixtures.accounts import headers_for
from tests.fixtures.factories import make_content, make_creator, make_subscription, make_user

VIEWERS = [
    "anonymous",
    "hide",  # an adult whose nsfw_policy is hide (the default)
    "blur",  # an adult who asked for NSFW blurred
    "show",  # an adult who asked for NSFW shown
    "minor",  # 15 years old, asking for NSFW shown
    "undated",  # signed in without a birth date, asking for NSFW shown
    "owner",  # the user of the creator of every item but "suspended"
    "other_creator",
    "staff",  # a moderator
    "buyer",  # bought the premium item
    "subscriber",  # has an active subscription to the owner
]
ITEMS = [
    "draft",
    "scheduled",
    "published",
    "private",
    "nsfw",
    "age_restricted",
    "premium",
    "deleted",
    "suspended",
]

EVERYONE = frozenset(VIEWERS)
NOBODY: frozenset[str] = frozenset()
MANAGERS = frozenset({"owner", "staff"})
# Signed in with a birth date at least 18 years back.
ADULTS = frozenset(
    {"hide", "blur", "show", "owner", "other_creator", "staff", "buyer", "subscriber"}
)
# Whose nsfw_policy is not hide, and who are not known to be minors.
SEES_NSFW = frozenset({"blur", "show", "undated"})


@dataclass(frozen=True)
class Expected:
    opens: frozenset[str]
    listed: frozenset[str]
    on_creator_page: frozenset[str]


MATRIX = {
    "draft": Expected(opens=MANAGERS, listed=NOBODY, on_creator_page=MANAGERS),
    "scheduled": Expected(opens=MANAGERS, listed=NOBODY, on_creator_page=MANAGERS),
    "published": Expected(opens=EVERYONE, listed=EVERYONE, on_creator_page=EVERYONE),
    "private": Expected(opens=MANAGERS, listed=NOBODY, on_creator_page=MANAGERS),
    "nsfw": Expected(
        opens=SEES_NSFW | MANAGERS, listed=SEES_NSFW, on_creator_page=SEES_NSFW | MANAGERS
    ),
    "age_restricted": Expected(opens=ADULTS, listed=ADULTS, on_creator_page=ADULTS),
    "premium": Expected(opens=EVERYONE, listed=EVERYONE, on_creator_page=EVERYONE),
    "deleted": Expected(opens=NOBODY, listed=NOBODY, on_creator_page=NOBODY),
    # By another creator, who is suspended: only staff still see it (on that creator's page).
    "suspended": Expected(
        opens=frozenset({"staff"}), listed=NOBODY, on_creator_page=frozenset({"staff"})
    ),
}
# Who may play the premium item's media; everyone else gets it locked.
UNLOCKS_PREMIUM = frozenset({"owner", "staff", "buyer", "subscriber"})
# Who gets NSFW items blurred (placeholder instead of picture and media).
BLURS = frozenset({"blur"})


def years_ago(years: int) -> date:
    today = utcnow().date()
    return date(today.year - years, 1, 1)


@dataclass
class World:
    users: dict[str, User | None]
    items: dict[str, Content]
    handles: dict[str, str]


async def build_world(session: AsyncSession) -> World:
    """One approved creator with one item of each kind (plus one by a suspended creator),
    and one account per kind of viewer, written straight into the database."""
    adult, minor = years_ago(30), years_ago(15)
    owner = await make_user(session, role=UserRole.CREATOR, is_creator=True, birth_date=adult)
    creator = await make_creator(session, user=owner)
    suspended = await make_creator(session, status=CreatorStatus.SUSPENDED)
    other_creator = await make_user(
        session, role=UserRole.CREATOR, is_creator=True, birth_date=adult
    )
    await make_creator(session, user=other_creator)

    def policy(name: str) -> dict[str, Any]:
        return {"preferences": {"nsfw_policy": name}}

    buyer = await make_user(session, birth_date=adult)
    subscriber = await make_user(session, birth_date=adult)
    users: dict[str, User | None] = {
        "anonymous": None,
        "hide": await make_user(session, birth_date=adult, **policy("hide")),
        "blur": await make_user(session, birth_date=adult, **policy("blur")),
        "show": await make_user(session, birth_date=adult, **policy("show")),
        "minor": await make_user(session, birth_date=minor, **policy("show")),
        "undated": await make_user(session, **policy("show")),
        "owner": owner,
        "other_creator": other_creator,
        "staff": await make_user(session, role=UserRole.MODERATOR, birth_date=adult),
        "buyer": buyer,
        "subscriber": subscriber,
    }

    now = utcnow()

    async def item(name: str, by: Creator = creator, **fields: Any) -> Content:
        return await make_content(
            session,
            by,
            title=name,
            media_url=f"https://cdn.example.com/media/{name}.mp4",
            thumbnail_url=f"https://cdn.example.com/thumbs/{name}.jpg",
            blur_placeholder="data:image/webp;base64,UklGRg==",
            description="part of the visibility matrix",
            duration=60,
            **fields,
        )

    items = {
        "draft": await item("draft", status=ContentStatus.DRAFT),
        "scheduled": await item(
            "scheduled", status=ContentStatus.DRAFT, scheduled_at=now + timedelta(days=1)
        ),
        "published": await item("published"),
        "private": await item("private", is_public=False),
        "nsfw": await item("nsfw", is_nsfw=True),
        "age_restricted": await item("age_restricted", age_restricted=True),
        "premium": await item("premium", is_premium=True, price=Decimal("9.99"), currency="USD"),
        "deleted": await item("deleted", deleted_at=now),
        "suspended": await item("suspended", by=suspended),
    }
    session.add(
        ContentPurchase(
            user_id=buyer.id,
            content_id=items["premium"].id,
            amount=Decimal("9.99"),
            currency="USD",
        )
    )
    await make_subscription(
        session,
        subscriber,
        creator,
        status=SubscriptionStatus.ACTIVE,
        current_period_end=now + timedelta(days=20),
    )
    await search_index.rebuild(session)
    await session.commit()
    handles = dict.fromkeys(ITEMS, creator.handle) | {"suspended": suspended.handle}
    return World(users=users, items=items, handles=handles)


async def listed_ids(
    client: httpx.AsyncClient, path: str, headers: dict[str, str] | None, **params: str
) -> dict[str, dict[str, Any]]:
    """Every item of a list as this viewer sees it, by id (a hidden list counts as empty)."""
    response = await client.get(path, params={"limit": "100", **params}, headers=headers)
    if response.status_code == 404:
        return {}
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    return {item["id"]: item for item in page["items"]}


def assert_presented(name: str, viewer: str, shown: dict[str, Any]) -> None:
    """The media an item carries for this viewer: blurred, locked or whole."""
    blurred = name == "nsfw" and viewer in BLURS
    locked = name == "premium" and viewer not in UNLOCKS_PREMIUM
    assert shown["is_blurred"] is blurred, (name, viewer)
    assert shown["is_locked"] is locked, (name, viewer)
    assert (shown["media_url"] is None) is (blurred or locked), (name, viewer)
    assert (shown["thumbnail_url"] is None) is blurred, (name, viewer)
    assert shown["blur_placeholder"] == "data:image/webp;base64,UklGRg==", (name, viewer)


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_the_visibility_matrix(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, viewer: str
) -> None:
    world = await build_world(session)
    user = world.users[viewer]
    headers = headers_for(runtime, user) if user is not None else None

    discovered = await listed_ids(client, "/api/v1/content", headers)
    # Trending and search are discovery too: they list exactly what /content lists.
    trending = await listed_ids(client, "/api/v1/content/trending", headers, window="7d")
    searched = await listed_ids(client, "/api/v1/search", headers, q="matrix")
    assert trending.keys() == discovered.keys()
    assert searched.keys() == discovered.keys()
    pages = {
        handle: await listed_ids(client, f"/api/v1/creators/{handle}/content", headers)
        for handle in set(world.handles.values())
    }

    for name in ITEMS:
        expected = MATRIX[name]
        id_ = str(world.items[name].id)
        detail = await client.get(f"/api/v1/content/{id_}", headers=headers)
        on_page = pages[world.handles[name]]

        assert detail.status_code == (200 if viewer in expected.opens else 404), (name, viewer)
        assert (id_ in discovered) is (viewer in expected.listed), (name, viewer)
        assert (id_ in on_page) is (viewer in expected.on_creator_page), (name, viewer)
        if detail.status_code == 200:
            assert_presented(name, viewer, detail.json())
        for shown in (discovered.get(id_), on_page.get(id_), trending.get(id_), searched.get(id_)):
            if shown is not None:
                assert_presented(name, viewer, shown)


async def test_only_a_current_subscription_to_the_creator_unlocks_premium_media(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    world = await build_world(session)
    premium = world.items["premium"]
    creator = await session.get(Creator, premium.creator_id)
    other = await make_creator(session)
    assert creator is not None
    now = utcnow()
    lapsed = {
        "canceled_and_over": await make_subscription(
            session,
            await make_user(session),
            creator,
            status=SubscriptionStatus.CANCELED,
            current_period_end=now - timedelta(minutes=1),
        ),
        "expired": await make_subscription(
            session,
            await make_user(session),
            creator,
            status=SubscriptionStatus.EXPIRED,
        ),
        "past_period": await make_subscription(
            session,
            await make_user(session),
            creator,
            current_period_end=now - timedelta(minutes=1),
        ),
        "pending": await make_subscription(
            session, await make_user(session), creator, status=SubscriptionStatus.PENDING
        ),
        "other_creator": await make_subscription(session, await make_user(session), other),
    }
    current = await make_subscription(session, await make_user(session), creator)
    await session.commit()

    async def locked_for(subscriber_id: Any) -> bool:
        user = await session.get(User, subscriber_id)
        assert user is not None
        await session.commit()
        response = await client.get(
            f"/api/v1/content/{premium.id}", headers=headers_for(runtime, user)
        )
        assert response.status_code == 200, response.text
        item = response.json()
        assert (item["media_url"] is None) is item["is_locked"]
        return bool(item["is_locked"])

    for kind, subscription in lapsed.items():
        assert await locked_for(subscription.subscriber_id), kind
    assert not await locked_for(current.subscriber_id)


async def test_a_purchase_unlocks_only_the_item_bought(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    world = await build_world(session)
    creator = await session.get(Creator, world.items["premium"].creator_id)
    assert creator is not None
    second = await make_content(
        session,
        creator,
        is_premium=True,
        price=Decimal("4.99"),
        currency="USD",
        media_url="https://cdn.example.com/media/second.mp4",
    )
    await session.commit()
    buyer = world.users["buyer"]
    assert buyer is not None

    listed = await listed_ids(client, "/api/v1/content", headers_for(runtime, buyer))

    assert listed[str(world.items["premium"].id)]["is_locked"] is False
    assert listed[str(second.id)]["is_locked"] is True
    assert listed[str(second.id)]["media_url"] is None
