"""Buying a premium item: one charge at its price, recorded with the platform's fee, and
an entitlement that unlocks its media. What one cannot buy (one's own, what is not for
sale, what one holds or is still paying for) is a 409 and charges nothing; what one
cannot see is a 404; a declined card records nothing; a pending one grants nothing
until the provider settles it.
"""

import asyncio
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Content, ContentPurchase, Creator, Transaction, User
from dreamlust.models.enums import ContentStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content
from tests.fixtures.money import API, money_headers, paid_creator, signed_webhook

MEDIA = "https://cdn.example.com/media/for-sale.mp4"


async def premium(session: AsyncSession, creator: Creator, **fields: Any) -> Content:
    item = await make_content(
        session,
        creator,
        is_premium=True,
        price=Decimal("9.99"),
        currency="USD",
        media_url=MEDIA,
        **fields,
    )
    await session.commit()
    return item


async def buy(
    client: httpx.AsyncClient,
    runtime: Runtime,
    user: User,
    content_id: uuid.UUID,
    *,
    key: str | None = None,
    **body: Any,
) -> httpx.Response:
    return await client.post(
        f"{API}/content/{content_id}/purchase",
        json=body or None,
        headers=money_headers(runtime, user, key),
    )


async def detail(
    client: httpx.AsyncClient, runtime: Runtime, user: User, item: Content
) -> dict[str, Any]:
    response = await client.get(f"{API}/content/{item.id}", headers=headers_for(runtime, user))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def count(session: AsyncSession, model: type[Transaction] | type[ContentPurchase]) -> int:
    found = await session.scalar(select(func.count()).select_from(model))
    await session.commit()
    return int(found or 0)


async def test_a_purchase_charges_the_price_with_its_fee_and_unlocks_the_media(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    item = await premium(session, creator)
    fan = await make_account(session)
    assert (await detail(client, runtime, fan, item))["media_url"] is None

    response = await buy(client, runtime, fan, item.id)

    assert response.status_code == 201, response.text
    body = response.json()
    transaction = body["transaction"]
    assert (body["content_id"], body["entitled"]) == (str(item.id), True)
    assert (transaction["type"], transaction["status"]) == ("PREMIUM_CONTENT", "COMPLETED")
    assert (transaction["amount"], transaction["fee"], transaction["currency"]) == (
        "9.99",
        "2.00",  # 20 % of 9.99, rounded half up to the cent
        "USD",
    )
    assert (transaction["user_id"], transaction["creator_id"], transaction["content_id"]) == (
        str(fan.id),
        str(creator.id),
        str(item.id),
    )
    shown = await detail(client, runtime, fan, item)
    assert (shown["is_locked"], shown["media_url"]) == (False, MEDIA)
    purchase = await session.scalar(select(ContentPurchase))
    await session.commit()
    assert purchase is not None
    assert (purchase.user_id, purchase.content_id, str(purchase.transaction_id)) == (
        fan.id,
        item.id,
        transaction["id"],
    )
    assert purchase.amount == Decimal("9.99")


async def test_buying_again_is_a_conflict_and_charges_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    item = await premium(session, creator)
    fan = await make_account(session)
    assert (await buy(client, runtime, fan, item.id)).status_code == 201

    again = await buy(client, runtime, fan, item.id)

    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == "application/problem+json"
    assert await count(session, Transaction) == 1
    assert await count(session, ContentPurchase) == 1


async def test_nobody_buys_their_own_content_or_content_not_for_sale(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    own = await premium(session, creator)
    free = await make_content(session, creator, media_url=MEDIA)
    await session.commit()
    fan = await make_account(session)

    assert (await buy(client, runtime, owner, own.id)).status_code == 409
    assert (await buy(client, runtime, fan, free.id)).status_code == 409
    assert await count(session, Transaction) == 0
    assert await count(session, ContentPurchase) == 0


@pytest.mark.parametrize(
    "hidden",
    [
        {"status": ContentStatus.DRAFT},
        {"is_public": False},  # private
        {"is_nsfw": True},  # the buyer's NSFW policy hides it
        None,  # no such item
    ],
)
async def test_content_the_buyer_cannot_see_is_not_found(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    hidden: dict[str, Any] | None,
) -> None:
    creator, _owner = await paid_creator(session)
    item_id = (await premium(session, creator, **hidden)).id if hidden else uuid.uuid4()
    fan = await make_account(session)

    response = await buy(client, runtime, fan, item_id)

    assert response.status_code == 404, response.text
    assert await count(session, Transaction) == 0


async def test_a_declined_card_is_a_402_and_records_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    item = await premium(session, creator)
    fan = await make_account(session)

    declined = await buy(
        client, runtime, fan, item.id, key="retry-me", payment_method="pm_card_declined"
    )

    assert declined.status_code == 402, declined.text
    assert declined.headers["content-type"] == "application/problem+json"
    assert await count(session, Transaction) == 0
    assert await count(session, ContentPurchase) == 0
    assert (await detail(client, runtime, fan, item))["is_locked"] is True
    # Not even the key was kept: it may be retried with another card.
    retried = await buy(client, runtime, fan, item.id, key="retry-me", payment_method="pm_card_ok")
    assert retried.status_code == 201, retried.text


async def test_a_pending_payment_grants_nothing_until_the_provider_settles_it(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    item = await premium(session, creator)
    fan = await make_account(session)

    response = await buy(client, runtime, fan, item.id, payment_method="pm_card_pending")

    assert response.status_code == 201, response.text
    transaction = response.json()["transaction"]
    assert response.json()["entitled"] is False
    assert (transaction["type"], transaction["status"]) == ("PREMIUM_CONTENT", "PENDING")
    assert await count(session, ContentPurchase) == 0
    assert (await detail(client, runtime, fan, item))["media_url"] is None
    # While it is pending, a second purchase would charge twice.
    assert (await buy(client, runtime, fan, item.id)).status_code == 409
    assert await count(session, Transaction) == 1

    body, headers = signed_webhook(
        runtime.settings, "charge.succeeded", transaction["provider_reference"]
    )
    settled = await client.post(f"{API}/webhooks/payments", content=body, headers=headers)

    assert settled.status_code == 200, settled.text
    assert await count(session, ContentPurchase) == 1
    assert (await detail(client, runtime, fan, item))["media_url"] == MEDIA


async def test_ten_concurrent_purchases_with_different_keys_charge_once(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    item = await premium(session, creator)
    fan = await make_account(session)

    responses = await asyncio.gather(*(buy(client, runtime, fan, item.id) for _ in range(10)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 9, [response.text for response in responses]
    assert await count(session, Transaction) == 1
    assert await count(session, ContentPurchase) == 1
