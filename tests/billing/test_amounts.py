"""Amounts and messages of tips: an amount is an exact, positive decimal of at most two
places, in a currency the platform takes and up to the maximum payment; anything else
is a 422 problem (never a 500) and moves no money. A message is one stripped line of
at most 500 characters. Nobody tips themselves or a creator who takes no tips.
"""

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Transaction, User
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import make_account
from tests.fixtures.money import API, money_headers, paid_creator

MISSING = "(left out)"


async def tip(
    client: httpx.AsyncClient, runtime: Runtime, user: User, handle: str, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(
        f"{API}/creators/{handle}/tips", json=body, headers=money_headers(runtime, user)
    )


async def transactions(session: AsyncSession) -> int:
    found = await session.scalar(select(func.count()).select_from(Transaction))
    await session.commit()
    return int(found or 0)


async def test_a_tip_is_charged_with_the_platform_fee(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)

    response = await tip(
        client, runtime, fan, creator.handle, {"amount": "12.5", "currency": "EUR"}
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["type"], body["status"]) == ("TIP", "COMPLETED")
    assert (body["amount"], body["fee"], body["currency"]) == ("12.50", "2.50", "EUR")
    assert (body["user_id"], body["creator_id"]) == (str(fan.id), str(creator.id))
    assert await transactions(session) == 1


@pytest.mark.parametrize(
    ("amount", "stored"),
    [
        (7, "7.00"),
        (2.5, "2.50"),  # a JSON number is read as the decimal it spells
        ("4.990", "4.99"),  # a trailing zero is not a third decimal
        ("10000.00", "10000.00"),  # the maximum itself
        # Scientific notation spells an exact decimal too: "1e3" is 1000, not a float.
        ("1e3", "1000.00"),
    ],
)
async def test_exact_amounts_are_taken_as_written(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, amount: Any, stored: str
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)

    response = await tip(
        client, runtime, fan, creator.handle, {"amount": amount, "currency": "USD"}
    )

    assert response.status_code == 201, response.text
    assert response.json()["amount"] == stored
    stored_amount = await session.scalar(select(Transaction.amount))
    await session.commit()
    assert str(stored_amount) == stored


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("-5.00", "USD"),
        ("0", "USD"),
        ("0.00", "USD"),
        ("4.999", "USD"),  # a third decimal
        ("1e-3", "USD"),
        ("10000.01", "USD"),  # over settings.max_payment_amount
        ("10000000000.00", "USD"),  # more digits than the ledger keeps
        ("abc", "USD"),
        ("", "USD"),
        (None, "USD"),
        (True, "USD"),
        ([], "USD"),
        ("NaN", "USD"),
        ("Infinity", "USD"),
        ("-Infinity", "USD"),
        ("5.00", "usd"),
        ("5.00", "XXX"),  # well formed, but not a currency the platform takes
        ("5.00", "JPY"),
        ("5.00", None),
        ("5.00", MISSING),
        (MISSING, "USD"),
    ],
)
async def test_a_bad_amount_or_currency_is_a_422_and_moves_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    amount: Any,
    currency: Any,
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    body = {
        name: value
        for name, value in (("amount", amount), ("currency", currency))
        if value is not MISSING
    }

    response = await tip(client, runtime, fan, creator.handle, body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"], response.text
    assert await transactions(session) == 0


async def test_the_message_is_kept_stripped(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)

    response = await tip(
        client,
        runtime,
        fan,
        creator.handle,
        {"amount": "3.00", "currency": "USD", "message": "  Thank you!  "},
    )

    assert response.status_code == 201, response.text
    assert response.json()["details"] == {"message": "Thank you!"}
    details = await session.scalar(select(Transaction.details))
    await session.commit()
    assert details == {"message": "Thank you!"}


@pytest.mark.parametrize(
    "message",
    [
        "x" * 501,
        "ring\x07ring",  # a control character
        "two\nlines",
        "nul\x00byte",
        "\x9bcsi",  # a C1 control character
    ],
)
async def test_a_bad_message_is_a_422_and_moves_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, message: str
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)

    response = await tip(
        client,
        runtime,
        fan,
        creator.handle,
        {"amount": "3.00", "currency": "USD", "message": message},
    )

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await transactions(session) == 0


async def test_a_message_of_500_characters_is_taken(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)

    response = await tip(
        client,
        runtime,
        fan,
        creator.handle,
        {"amount": "3.00", "currency": "USD", "message": "x" * 500},
    )

    assert response.status_code == 201, response.text
    assert len(response.json()["details"]["message"]) == 500


async def test_nobody_tips_themselves_or_a_creator_without_tips(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    closed, _other = await paid_creator(session, tips_enabled=False)
    fan = await make_account(session)
    body = {"amount": "3.00", "currency": "USD"}

    yourself = await tip(client, runtime, owner, creator.handle, body)
    disabled = await tip(client, runtime, fan, closed.handle, body)
    unknown = await tip(client, runtime, fan, "nobody_by_that_name", body)

    assert yourself.status_code == 409, yourself.text
    assert disabled.status_code == 409, disabled.text
    assert unknown.status_code == 404, unknown.text
    assert await transactions(session) == 0
