"""The tiers a creator offers: PUT /creators/me/tiers replaces them all, GET
/creators/{handle}/tiers shows them. Prices are exact decimals answered as strings;
BASIC, PREMIUM and VIP have fixed levels, a named CUSTOM tier chooses its own; a bad
price or currency is a 422 and changes nothing; nobody subscribes to a tier that is not
offered.
"""

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Creator, Subscription, Transaction, User
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.money import API, paid_creator, subscribe


async def put_tiers(
    client: httpx.AsyncClient, runtime: Runtime, user: User | None, *tiers: dict[str, Any]
) -> httpx.Response:
    return await client.put(
        f"{API}/creators/me/tiers",
        json={"tiers": list(tiers)},
        headers=headers_for(runtime, user) if user is not None else None,
    )


async def tiers_of(client: httpx.AsyncClient, creator: Creator) -> list[dict[str, Any]]:
    response = await client.get(f"{API}/creators/{creator.handle}/tiers")
    assert response.status_code == 200, response.text
    return list(response.json())


def tier(kind: str, price: Any = "5.00", currency: str = "USD", **fields: Any) -> dict[str, Any]:
    return {"tier": kind, "price": price, "currency": currency, **fields}


def assert_invalid(response: httpx.Response) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_creator_offers_tiers_at_exact_prices(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)

    response = await put_tiers(
        client,
        runtime,
        owner,
        tier("BASIC", "9.5"),
        tier("VIP", 30, "EUR", interval="YEAR", name="Front row", benefits=[" Q&A "]),
        tier("PREMIUM", "10000.00"),  # the most one payment may be
    )

    assert response.status_code == 200, response.text
    expected = [
        {
            "tier": "BASIC",
            "name": "Basic",
            "price": "9.50",
            "currency": "USD",
            "interval": "MONTH",
            "level": 1,
            "benefits": [],
        },
        {
            "tier": "PREMIUM",
            "name": "Premium",
            "price": "10000.00",
            "currency": "USD",
            "interval": "MONTH",
            "level": 2,
            "benefits": [],
        },
        {
            "tier": "VIP",
            "name": "Front row",
            "price": "30.00",
            "currency": "EUR",
            "interval": "YEAR",
            "level": 3,
            "benefits": ["Q&A"],
        },
    ]
    assert response.json() == expected
    assert await tiers_of(client, creator) == expected


async def test_a_tier_left_out_is_no_longer_offered(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)  # BASIC, PREMIUM and VIP
    fan = await make_account(session)

    response = await put_tiers(client, runtime, owner, tier("PREMIUM", "12"))

    assert response.status_code == 200, response.text
    assert [(t["tier"], t["price"]) for t in await tiers_of(client, creator)] == [
        ("PREMIUM", "12.00")
    ]
    assert_invalid(await subscribe(client, runtime, fan, creator, "BASIC"))
    subscribed = await subscribe(client, runtime, fan, creator, "PREMIUM")
    assert subscribed.status_code == 201, subscribed.text
    assert subscribed.json()["transaction"]["amount"] == "12.00"


async def test_subscribing_to_a_tier_not_offered_is_refused_and_charges_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)  # no CUSTOM tier
    fan = await make_account(session)

    response = await subscribe(client, runtime, fan, creator, "CUSTOM")

    assert_invalid(response)
    assert response.json()["errors"][0]["loc"] == ["body", "tier"]
    assert await session.scalar(select(func.count()).select_from(Subscription)) == 0
    assert await session.scalar(select(func.count()).select_from(Transaction)) == 0
    await session.commit()


@pytest.mark.parametrize("level", [1, 2, 3])
async def test_a_custom_tier_chooses_its_level(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, level: int
) -> None:
    creator, owner = await paid_creator(session)

    response = await put_tiers(
        client, runtime, owner, tier("CUSTOM", "7.00", name="Inner circle", level=level)
    )

    assert response.status_code == 200, response.text
    [custom] = await tiers_of(client, creator)
    assert (custom["tier"], custom["name"], custom["level"]) == ("CUSTOM", "Inner circle", level)


@pytest.mark.parametrize(
    "offer",
    [
        [tier("CUSTOM", level=2)],  # a CUSTOM tier needs a name
        [tier("CUSTOM", name="Inner circle", level=0)],
        [tier("CUSTOM", name="Inner circle", level=4)],
        [tier("BASIC", level=2)],  # the other tiers' levels are fixed
        [tier("VIP", level=3)],
        [tier("BASIC"), tier("BASIC", "6.00")],  # each tier once
        [tier("BASIC", benefits=["nul\x00byte"])],  # a benefit is one line of text
        [tier("BASIC", benefits=["two\nlines"])],
        [tier("BASIC", benefits=[" "])],
    ],
)
async def test_a_malformed_offer_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, offer: list[Any]
) -> None:
    creator, owner = await paid_creator(session)
    before = await tiers_of(client, creator)

    assert_invalid(await put_tiers(client, runtime, owner, *offer))
    assert await tiers_of(client, creator) == before


@pytest.mark.parametrize(
    ("price", "currency"),
    [
        ("0", "USD"),
        ("0.00", "USD"),
        ("-4.99", "USD"),
        ("4.999", "USD"),
        ("10000000000.00", "USD"),  # more digits than the ledger keeps
        ("10000.01", "USD"),  # over settings.max_payment_amount
        ("NaN", "USD"),
        ("Infinity", "USD"),
        ("cheap", "USD"),
        ("", "USD"),
        (None, "USD"),
        ("4.99", "usd"),
        ("4.99", "US"),
        ("4.99", "USDT"),
        ("4.99", "JPY"),  # well formed, but not a currency the platform takes
    ],
)
async def test_a_bad_price_or_currency_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, price: Any, currency: str
) -> None:
    creator, owner = await paid_creator(session)
    before = await tiers_of(client, creator)

    # The good BASIC tier first: refusing the offer must not apply it in part.
    response = await put_tiers(
        client, runtime, owner, tier("BASIC", "6.00"), tier("PREMIUM", price, currency)
    )

    assert_invalid(response)
    assert await tiers_of(client, creator) == before
    assert [t["price"] for t in before] == ["5.00", "10.00", "25.00"]


async def test_only_creators_set_tiers(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    plain = await make_account(session)
    before = await tiers_of(client, creator)

    anonymous = await put_tiers(client, runtime, None, tier("BASIC"))
    user = await put_tiers(client, runtime, plain, tier("BASIC"))

    assert anonymous.status_code == 401, anonymous.text
    assert user.status_code == 403, user.text
    assert await tiers_of(client, creator) == before
