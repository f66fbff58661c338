"""What one viewer may see is never served to another from the cache: premium media
unlocked for a buyer, an owner's own items whole, NSFW as each viewer's policy says."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Content, ContentPurchase, User
from dreamlust.models.enums import ContentStatus, UserRole
from tests.fixtures.accounts import headers_for
from tests.fixtures.cache import CachedApi, lookups
from tests.fixtures.factories import make_content, make_creator, make_user

API = "/api/v1"
ADULT = date(1990, 1, 1)
MEDIA = "https://cdn.example.com/premium.mp4"


def nsfw(policy: str) -> dict[str, Any]:
    return {"preferences": {"nsfw_policy": policy}}


async def premium_item(session: AsyncSession) -> tuple[Content, User, User, User]:
    """A premium item, its creator's account, a buyer and an adult who did not buy it."""
    owner = await make_user(session, role=UserRole.CREATOR, is_creator=True, birth_date=ADULT)
    content = await make_content(
        session,
        await make_creator(session, user=owner),
        media_url=MEDIA,
        is_premium=True,
        price=Decimal("9.99"),
        currency="USD",
        trending_24h=1.0,
    )
    buyer = await make_user(session, birth_date=ADULT)
    stranger = await make_user(session, birth_date=ADULT)
    session.add(
        ContentPurchase(
            user_id=buyer.id, content_id=content.id, amount=Decimal("9.99"), currency="USD"
        )
    )
    await session.commit()
    return content, owner, buyer, stranger


@pytest.mark.parametrize("first", ["buyer", "owner", "stranger", "anonymous"])
async def test_premium_media_reach_only_those_entitled(
    api: CachedApi, session: AsyncSession, first: str
) -> None:
    content, owner, buyer, stranger = await premium_item(session)
    viewers = {"buyer": buyer, "owner": owner, "stranger": stranger, "anonymous": None}
    unlocked = {"buyer": True, "owner": True, "stranger": False, "anonymous": False}
    order = [first, *(name for name in viewers if name != first), first]

    for name in order:
        user = viewers[name]
        headers = headers_for(api.runtime, user) if user is not None else {}
        item = await api.client.get(f"{API}/content/{content.id}", headers=headers)
        listed = await api.client.get(f"{API}/content/trending", headers=headers)
        assert item.status_code == 200, item.text
        [card] = listed.json()["items"]
        for shown in (item.json(), card):
            assert shown["is_locked"] is not unlocked[name], name
            assert shown["media_url"] == (MEDIA if unlocked[name] else None), name
    assert lookups("content", "hit") > 0


async def test_an_owner_sees_their_nsfw_item_whole_where_others_see_it_blurred(
    api: CachedApi, session: AsyncSession
) -> None:
    owner = await make_user(
        session, role=UserRole.CREATOR, is_creator=True, birth_date=ADULT, **nsfw("blur")
    )
    content = await make_content(
        session,
        await make_creator(session, user=owner),
        is_nsfw=True,
        thumbnail_url="https://cdn.example.com/thumb.jpg",
        trending_24h=1.0,
    )
    blurring = await make_user(session, birth_date=ADULT, **nsfw("blur"))
    showing = await make_user(session, birth_date=ADULT, **nsfw("show"))
    hiding = await make_user(session, birth_date=ADULT, **nsfw("hide"))
    await session.commit()

    async def seen_by(user: User | None) -> tuple[int, bool | None]:
        headers = headers_for(api.runtime, user) if user is not None else {}
        response = await api.client.get(f"{API}/content/{content.id}", headers=headers)
        blurred = response.json()["is_blurred"] if response.status_code == 200 else None
        return response.status_code, blurred

    for _ in range(2):  # the second round reads what the first stored
        assert await seen_by(blurring) == (200, True)
        assert await seen_by(owner) == (200, False)
        assert await seen_by(showing) == (200, False)
        assert await seen_by(hiding) == (404, None)
        assert await seen_by(None) == (404, None)


async def test_an_owner_opens_their_draft_though_others_get_a_404(
    api: CachedApi, session: AsyncSession
) -> None:
    owner = await make_user(session, role=UserRole.CREATOR, is_creator=True, birth_date=ADULT)
    draft = await make_content(
        session, await make_creator(session, user=owner), status=ContentStatus.DRAFT
    )
    await session.commit()

    for _ in range(2):
        assert (await api.client.get(f"{API}/content/{draft.id}")).status_code == 404
        mine = await api.client.get(
            f"{API}/content/{draft.id}", headers=headers_for(api.runtime, owner)
        )
        assert mine.status_code == 200, mine.text
