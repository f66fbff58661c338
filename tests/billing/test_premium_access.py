"""Who plays premium media. A premium item is listed for everyone who may see it, but its
`media_url` is withheld (`is_locked`) unless the viewer bought it, holds a live
subscription (ACTIVE, or CANCELED still in its period) whose level includes the item's
tier, is its creator or is staff: on the detail, in discovery, on the creator's page and
in search alike.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.models import Content, ContentPurchase, Creator, User
from dreamlust.models.enums import SubscriptionStatus, SubscriptionTier, UserRole
from dreamlust.runtime import Runtime
from dreamlust.search import index as search_index
from tests.fixtures.accounts import headers_for
from tests.fixtures.factories import make_content, make_subscription, make_user
from tests.fixtures.money import API, money_headers, paid_creator, subscribe

WORD = "zanzibarquill"  # in the premium item's title only, for search
MEDIA = "https://cdn.example.com/media/premium.mp4"

# Each viewer, and whether the premium (BASIC tier) item's media reach them.
PLAYS_MEDIA = {
    "buyer": True,
    "subscriber": True,  # ACTIVE, in its period
    "cancelled_in_period": True,  # CANCELED: paid to the period end, not renewing
    "expired": False,  # EXPIRED, though its period end was never moved back
    "cancelled_period_over": False,  # CANCELED, period ended (the worker has not run)
    "pending": False,  # its first payment is not settled
    "stranger": False,  # signed in, nothing bought
    "anonymous": False,
    "creator": True,
    "staff": True,  # a moderator
}


@dataclass
class World:
    creator: Creator
    item: Content
    users: dict[str, User | None]


async def build_world(session: AsyncSession) -> World:
    creator, owner = await paid_creator(session)
    item = await make_content(
        session,
        creator,
        title=f"Sunrise {WORD}",
        is_premium=True,
        price=Decimal("9.99"),
        currency="USD",
        premium_tier=SubscriptionTier.BASIC,
        media_url=MEDIA,
    )
    now = utcnow()
    in_period, ended = now + timedelta(days=10), now - timedelta(minutes=1)
    users: dict[str, User | None] = {"anonymous": None, "creator": owner}
    for name in [name for name in PLAYS_MEDIA if name not in users]:
        role = UserRole.MODERATOR if name == "staff" else UserRole.USER
        users[name] = await make_user(session, role=role)

    async def subscription(name: str, status: SubscriptionStatus, period_end: datetime) -> None:
        user = users[name]
        assert user is not None
        await make_subscription(
            session, user, creator, status=status, current_period_end=period_end, level=1
        )

    await subscription("subscriber", SubscriptionStatus.ACTIVE, in_period)
    await subscription("cancelled_in_period", SubscriptionStatus.CANCELED, in_period)
    await subscription("expired", SubscriptionStatus.EXPIRED, in_period)
    await subscription("cancelled_period_over", SubscriptionStatus.CANCELED, ended)
    await subscription("pending", SubscriptionStatus.PENDING, in_period)
    buyer = users["buyer"]
    assert buyer is not None
    session.add(
        ContentPurchase(
            user_id=buyer.id, content_id=item.id, amount=Decimal("9.99"), currency="USD"
        )
    )
    await search_index.rebuild(session)
    await session.commit()
    return World(creator=creator, item=item, users=users)


async def in_list(
    client: httpx.AsyncClient, path: str, headers: dict[str, str] | None, item: Content, **q: str
) -> dict[str, Any]:
    """The item as a list shows it to this viewer (it must be there)."""
    response = await client.get(path, params={"limit": "100", **q}, headers=headers)
    assert response.status_code == 200, response.text
    [shown] = [entry for entry in response.json()["items"] if entry["id"] == str(item.id)]
    return dict(shown)


async def shown_everywhere(
    client: httpx.AsyncClient, headers: dict[str, str] | None, world: World
) -> dict[str, dict[str, Any]]:
    detail = await client.get(f"{API}/content/{world.item.id}", headers=headers)
    assert detail.status_code == 200, detail.text
    return {
        "detail": detail.json(),
        "discovery": await in_list(client, f"{API}/content", headers, world.item),
        "creator page": await in_list(
            client, f"{API}/creators/{world.creator.handle}/content", headers, world.item
        ),
        "search": await in_list(client, f"{API}/search", headers, world.item, q=WORD),
    }


@pytest.mark.parametrize(("viewer", "plays"), PLAYS_MEDIA.items())
async def test_premium_media_reach_only_those_entitled(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, viewer: str, plays: bool
) -> None:
    world = await build_world(session)
    user = world.users[viewer]
    headers = headers_for(runtime, user) if user is not None else None

    for where, shown in (await shown_everywhere(client, headers, world)).items():
        assert shown["is_premium"] is True, where
        assert shown["is_locked"] is not plays, where
        assert shown["media_url"] == (MEDIA if plays else None), where


async def locks_by_tier(
    client: httpx.AsyncClient, runtime: Runtime, user: User, creator: Creator
) -> dict[str, bool]:
    """Whether each of the creator's items (titled after its tier) is locked for `user`."""
    response = await client.get(
        f"{API}/creators/{creator.handle}/content", headers=headers_for(runtime, user)
    )
    assert response.status_code == 200, response.text
    return {item["title"]: item["is_locked"] for item in response.json()["items"]}


async def one_item_per_tier(session: AsyncSession, creator: Creator) -> None:
    for tier in (SubscriptionTier.BASIC, SubscriptionTier.PREMIUM, SubscriptionTier.VIP):
        await make_content(
            session,
            creator,
            title=tier.value,
            is_premium=True,
            price=Decimal("3.00"),
            currency="USD",
            premium_tier=tier,
            media_url=f"https://cdn.example.com/media/{tier.value}.mp4",
        )
    await session.commit()


async def test_a_subscription_plays_the_items_its_tier_includes(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    await one_item_per_tier(session, creator)
    basic, vip = await make_user(session), await make_user(session)
    await session.commit()

    assert (await subscribe(client, runtime, basic, creator, "BASIC")).status_code == 201
    assert (await subscribe(client, runtime, vip, creator, "VIP")).status_code == 201

    assert await locks_by_tier(client, runtime, basic, creator) == {
        "BASIC": False,
        "PREMIUM": True,
        "VIP": True,
    }
    assert await locks_by_tier(client, runtime, vip, creator) == {
        "BASIC": False,
        "PREMIUM": False,
        "VIP": False,
    }


async def test_a_custom_tier_of_level_2_plays_premium_items_but_not_vip_ones(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    await one_item_per_tier(session, creator)
    fan = await make_user(session)
    await session.commit()
    offer = {
        "tiers": [
            {"tier": "CUSTOM", "name": "Inner circle", "price": "7", "currency": "USD", "level": 2}
        ]
    }
    offered = await client.put(
        f"{API}/creators/me/tiers", json=offer, headers=money_headers(runtime, owner)
    )
    assert offered.status_code == 200, offered.text

    subscribed = await subscribe(client, runtime, fan, creator, "CUSTOM")

    assert subscribed.status_code == 201, subscribed.text
    assert subscribed.json()["subscription"]["level"] == 2
    assert await locks_by_tier(client, runtime, fan, creator) == {
        "BASIC": False,
        "PREMIUM": False,
        "VIP": True,
    }
