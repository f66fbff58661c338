"""Idempotency keys of money POSTs (shown on tips): a retry with the same key and body
replays the first answer byte for byte and charges nothing more; the same key for
another request is a 422; no key is a 428 and a malformed one a 4xx; a failed request
leaves its key free; keys are per user, kept for a day, then forgotten."""

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.jobs.periodic import forget_idempotency_keys
from dreamlust.kit.clock import utcnow
from dreamlust.models import Creator, IdempotencyRecord, Transaction, User
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.money import API, money_headers, paid_creator, subscribe

TIP = {"amount": "5.00", "currency": "USD", "message": "thanks"}


async def _tip(
    client: httpx.AsyncClient,
    runtime: Runtime,
    user: User,
    creator: Creator,
    key: str | bytes | None,
    **body: Any,
) -> httpx.Response:
    headers: dict[str, Any] = headers_for(runtime, user)
    if key is not None:
        headers["Idempotency-Key"] = key
    return await client.post(
        f"{API}/creators/{creator.handle}/tips", json={**TIP, **body}, headers=headers
    )


async def _count(session: AsyncSession, model: type[Any]) -> int:
    count = await session.scalar(select(func.count()).select_from(model))
    await session.commit()
    return int(count or 0)


async def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    before = utcnow()

    first = await _tip(client, runtime, fan, creator, "tip-1")
    again = await _tip(client, runtime, fan, creator, "tip-1")

    assert first.status_code == again.status_code == 201, first.text
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"]
    assert await _count(session, Transaction) == 1
    record = await session.scalar(select(IdempotencyRecord))
    await session.commit()
    assert record is not None
    assert (record.key, record.response_status) == ("tip-1", 201)
    assert before + timedelta(hours=24) <= record.expires_at <= utcnow() + timedelta(hours=24)


async def test_the_same_key_for_another_request_is_a_422(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    assert (await _tip(client, runtime, fan, creator, "k")).status_code == 201

    other_amount = await _tip(client, runtime, fan, creator, "k", amount="6.00")
    other_endpoint = await subscribe(client, runtime, fan, creator, key="k")

    for response in (other_amount, other_endpoint):
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert await _count(session, Transaction) == 1


async def test_a_money_post_without_a_key_is_a_428(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)

    response = await _tip(client, runtime, fan, creator, None)

    assert response.status_code == 428, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await _count(session, Transaction) == 0


@pytest.mark.parametrize(
    ("key", "status"),
    [
        ("two words", 400),
        ("tab\there", 400),
        ("", 400),
        ("clé".encode(), 400),  # the server reads header bytes as latin-1: not ASCII
        ("k" * 256, 422),
    ],
    ids=["space", "tab", "empty", "non-ascii", "256-chars"],
)
async def test_a_malformed_key_is_refused_and_charges_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    key: str | bytes,
    status: int,
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)

    response = await _tip(client, runtime, fan, creator, key)

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await _count(session, Transaction) == 0
    assert await _count(session, IdempotencyRecord) == 0


async def test_a_key_of_255_visible_characters_is_accepted(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)

    response = await _tip(client, runtime, fan, creator, "!~" * 127 + "k")

    assert response.status_code == 201, response.text


async def test_a_declined_request_leaves_its_key_free(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    declined = {"payment_method": "pm_card_declined"}

    first = await _tip(client, runtime, fan, creator, "k", **declined)
    retried = await _tip(client, runtime, fan, creator, "k", **declined)

    # Not a replay: the declined request ran again, and nothing of it was kept.
    assert (first.status_code, retried.status_code) == (402, 402), retried.text
    assert await _count(session, Transaction) == 0
    assert await _count(session, IdempotencyRecord) == 0
    # The key is free: even another request (another card) may take it.
    paid = await _tip(client, runtime, fan, creator, "k", payment_method="pm_card_ok")
    assert paid.status_code == 201, paid.text
    assert await _count(session, Transaction) == 1


async def test_keys_are_per_user(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    ann, bob = await make_account(session), await make_account(session)

    for_ann = await _tip(client, runtime, ann, creator, "same-key")
    for_bob = await _tip(client, runtime, bob, creator, "same-key")

    assert (for_ann.status_code, for_bob.status_code) == (201, 201), for_bob.text
    assert (for_ann.json()["user_id"], for_bob.json()["user_id"]) == (str(ann.id), str(bob.id))
    assert await _count(session, Transaction) == 2


async def test_an_expired_key_may_be_used_afresh(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    assert (await _tip(client, runtime, fan, creator, "k")).status_code == 201
    assert (await subscribe(client, runtime, fan, creator, key="k")).status_code == 422
    await session.execute(
        update(IdempotencyRecord).values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await session.commit()

    reused = await subscribe(client, runtime, fan, creator, key="k")

    assert reused.status_code == 201, reused.text
    assert await _count(session, Transaction) == 2
    assert await _count(session, IdempotencyRecord) == 1  # the expired one made way


async def test_the_worker_forgets_expired_keys_only(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    for key in ("old", "new"):
        assert (await _tip(client, runtime, fan, creator, key)).status_code == 201
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.key == "old")
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    await session.commit()

    await forget_idempotency_keys(runtime)

    kept = list(await session.scalars(select(IdempotencyRecord.key)))
    await session.commit()
    assert kept == ["new"]
    # A kept key still replays; the transactions are the ledger's and stay.
    replay = await client.post(
        f"{API}/creators/{creator.handle}/tips",
        json=TIP,
        headers=money_headers(runtime, fan, "new"),
    )
    assert replay.status_code == 201
    assert await _count(session, Transaction) == 2
