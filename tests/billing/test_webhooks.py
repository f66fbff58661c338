"""The payment provider's webhooks: a signed, fresh `charge.succeeded` or `charge.failed`
settles a pending payment once; a delivery that is unsigned, wrongly signed, stale,
from the future or malformed is a 400 and changes nothing; a redelivered event is
acknowledged and not applied again, and one that comes before its payment is recorded
is refused, so that the provider's next delivery applies it."""

import asyncio
import time
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing.webhooks import SIGNATURE_HEADER, sign
from dreamlust.config import Settings
from dreamlust.models import ContentPurchase, PaymentEvent, Transaction
from dreamlust.models.enums import TransactionStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content
from tests.fixtures.money import (
    API,
    money_headers,
    paid_creator,
    signed_webhook,
    stored_subscription,
    subscribe,
    subscriber_count,
)

WEBHOOK = f"{API}/webhooks/payments"
PENDING = "pm_card_pending"


async def _pending_subscription(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new subscription whose first charge the provider has not settled yet: the
    subscription and its transaction, as the API answered them."""
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    response = await subscribe(client, runtime, fan, creator, payment_method=PENDING)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["subscription"]["status"], body["transaction"]["status"]) == (
        "PENDING",
        "PENDING",
    )
    return body["subscription"], body["transaction"]


async def _state(
    session: AsyncSession, subscription: dict[str, Any], transaction: dict[str, Any]
) -> tuple[str, str, int, int]:
    """The subscription's and the payment's status, the subscriber count and how many
    provider events are kept."""
    status = await session.scalar(
        select(Transaction.status).where(Transaction.id == uuid.UUID(transaction["id"]))
    )
    events = await session.scalar(select(func.count()).select_from(PaymentEvent))
    await session.commit()
    assert status is not None
    stored = await stored_subscription(session, subscription["id"])
    count = await subscriber_count(session, stored.creator_id)
    return stored.status, status, count, int(events or 0)


async def test_charge_succeeded_activates_a_pending_subscription(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    subscription, transaction = await _pending_subscription(client, session, runtime)
    assert await _state(session, subscription, transaction) == ("PENDING", "PENDING", 0, 0)

    body, headers = signed_webhook(settings, "charge.succeeded", transaction["provider_reference"])
    response = await client.post(WEBHOOK, content=body, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "applied": True}
    assert await _state(session, subscription, transaction) == ("ACTIVE", "COMPLETED", 1, 1)


async def test_charge_succeeded_grants_a_pending_purchase(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    creator, _owner = await paid_creator(session)
    item = await make_content(
        session, creator, is_premium=True, price=Decimal("3.50"), currency="USD"
    )
    await session.commit()
    buyer = await make_account(session)
    bought = await client.post(
        f"{API}/content/{item.id}/purchase",
        json={"payment_method": PENDING},
        headers=money_headers(runtime, buyer),
    )
    assert bought.status_code == 201, bought.text
    assert bought.json()["entitled"] is False
    transaction = bought.json()["transaction"]

    body, headers = signed_webhook(settings, "charge.succeeded", transaction["provider_reference"])
    response = await client.post(WEBHOOK, content=body, headers=headers)

    assert response.json() == {"received": True, "applied": True}
    purchase = await session.scalar(
        select(ContentPurchase).where(
            ContentPurchase.user_id == buyer.id, ContentPurchase.content_id == item.id
        )
    )
    status = await session.scalar(
        select(Transaction.status).where(Transaction.id == uuid.UUID(transaction["id"]))
    )
    await session.commit()
    assert purchase is not None
    assert (str(purchase.transaction_id), purchase.amount) == (transaction["id"], Decimal("3.50"))
    assert status is TransactionStatus.COMPLETED


async def test_charge_failed_expires_a_subscription_that_never_started(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    subscription, transaction = await _pending_subscription(client, session, runtime)

    body, headers = signed_webhook(settings, "charge.failed", transaction["provider_reference"])
    response = await client.post(WEBHOOK, content=body, headers=headers)

    assert response.json() == {"received": True, "applied": True}
    assert await _state(session, subscription, transaction) == ("EXPIRED", "FAILED", 0, 1)


async def test_charge_failed_on_an_upgrade_puts_the_tier_back_for_the_period_paid(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    subscribed = (await subscribe(client, runtime, fan, creator)).json()["subscription"]
    upgraded = await client.patch(
        f"{API}/subscriptions/{subscribed['id']}",
        json={"tier": "VIP", "payment_method": PENDING, "version": subscribed["version"]},
        headers=headers_for(runtime, fan),
    )
    assert (upgraded.status_code, upgraded.json()["tier"]) == (200, "VIP"), upgraded.text
    reference = await session.scalar(
        select(Transaction.provider_reference).where(
            Transaction.status == TransactionStatus.PENDING
        )
    )
    await session.commit()
    assert reference is not None

    body, headers = signed_webhook(settings, "charge.failed", reference)
    response = await client.post(WEBHOOK, content=body, headers=headers)

    assert response.json() == {"received": True, "applied": True}
    stored = await stored_subscription(session, subscribed["id"])
    assert (stored.status, stored.tier, stored.level, stored.amount) == (
        "ACTIVE",
        "BASIC",
        1,
        Decimal("5.00"),
    )
    assert stored.current_period_end.isoformat().startswith(subscribed["current_period_end"][:19])
    assert await subscriber_count(session, creator.id) == 1


def _wrong_secret(settings: Settings, reference: str) -> tuple[bytes, dict[str, str]]:
    body, _headers = signed_webhook(settings, "charge.succeeded", reference)
    return body, {SIGNATURE_HEADER: sign(b"not-the-webhook-secret", int(time.time()), body)}


def _altered_body(settings: Settings, reference: str) -> tuple[bytes, dict[str, str]]:
    body, headers = signed_webhook(settings, "charge.failed", reference)
    return body.replace(b"charge.failed", b"charge.succeeded"), headers


def _stale(settings: Settings, reference: str) -> tuple[bytes, dict[str, str]]:
    at = int(time.time()) - settings.payment_webhook_tolerance_seconds - 60
    return signed_webhook(settings, "charge.succeeded", reference, at=at)


def _from_the_future(settings: Settings, reference: str) -> tuple[bytes, dict[str, str]]:
    at = int(time.time()) + settings.payment_webhook_tolerance_seconds + 60
    return signed_webhook(settings, "charge.succeeded", reference, at=at)


def _unsigned(settings: Settings, reference: str) -> tuple[bytes, dict[str, str]]:
    body, _headers = signed_webhook(settings, "charge.succeeded", reference)
    return body, {"Content-Type": "application/json"}


def _malformed_header(settings: Settings, reference: str) -> tuple[bytes, dict[str, str]]:
    body, headers = signed_webhook(settings, "charge.succeeded", reference)
    return body, {SIGNATURE_HEADER: headers[SIGNATURE_HEADER].replace("t=", "time=")}


def _malformed_body(settings: Settings, reference: str) -> tuple[bytes, dict[str, str]]:
    body = b'{"type": "charge.succeeded", "data": {"reference": "' + reference.encode() + b'"'
    return body, {SIGNATURE_HEADER: sign(settings.webhook_secret(), int(time.time()), body)}


def _not_an_event(settings: Settings, reference: str) -> tuple[bytes, dict[str, str]]:
    body = b'{"type": "charge.succeeded", "data": {"reference": "' + reference.encode() + b'"}}'
    return body, {SIGNATURE_HEADER: sign(settings.webhook_secret(), int(time.time()), body)}


@pytest.mark.parametrize(
    "delivery",
    [
        _wrong_secret,
        _altered_body,
        _stale,
        _from_the_future,
        _unsigned,
        _malformed_header,
        _malformed_body,
        _not_an_event,
    ],
    ids=lambda delivery: delivery.__name__.lstrip("_"),
)
async def test_a_refused_delivery_is_a_400_and_changes_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    settings: Settings,
    delivery: Any,
) -> None:
    subscription, transaction = await _pending_subscription(client, session, runtime)
    body, headers = delivery(settings, transaction["provider_reference"])

    response = await client.post(WEBHOOK, content=body, headers=headers)

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await _state(session, subscription, transaction) == ("PENDING", "PENDING", 0, 0)


@pytest.mark.parametrize(
    "header",
    [b"t=\xb2,v1=00", b"t=1,v1=\xe9\xe9", b"t=" + b"1" * 5000 + b",v1=00"],
    ids=["non-ascii-digit-time", "non-ascii-signature", "5000-digit-time"],
)
async def test_a_garbled_signature_header_is_a_400_not_a_crash(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    settings: Settings,
    header: bytes,
) -> None:
    subscription, transaction = await _pending_subscription(client, session, runtime)
    body, _headers = signed_webhook(settings, "charge.succeeded", transaction["provider_reference"])

    response = await client.post(WEBHOOK, content=body, headers={SIGNATURE_HEADER.encode(): header})

    assert response.status_code == 400, response.text
    assert await _state(session, subscription, transaction) == ("PENDING", "PENDING", 0, 0)


async def test_an_event_delivered_twice_is_applied_once(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    subscription, transaction = await _pending_subscription(client, session, runtime)
    body, headers = signed_webhook(
        settings, "charge.succeeded", transaction["provider_reference"], event_id="evt_once"
    )

    first = await client.post(WEBHOOK, content=body, headers=headers)
    again = await client.post(WEBHOOK, content=body, headers=headers)

    assert first.json() == {"received": True, "applied": True}
    assert again.status_code == 200, again.text
    assert again.json() == {"received": True, "applied": False, "reason": "duplicate"}
    assert await _state(session, subscription, transaction) == ("ACTIVE", "COMPLETED", 1, 1)


async def test_an_event_delivered_ten_times_at_once_is_applied_once(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    subscription, transaction = await _pending_subscription(client, session, runtime)
    body, headers = signed_webhook(
        settings, "charge.succeeded", transaction["provider_reference"], event_id="evt_burst"
    )

    responses = await asyncio.gather(
        *(client.post(WEBHOOK, content=body, headers=headers) for _ in range(10))
    )

    assert [response.status_code for response in responses] == [200] * 10
    assert sum(response.json()["applied"] for response in responses) == 1
    assert await _state(session, subscription, transaction) == ("ACTIVE", "COMPLETED", 1, 1)


async def test_an_event_that_comes_before_its_payment_is_recorded_is_applied_when_redelivered(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    creator, _owner = await paid_creator(session)
    fan = await make_account(session)
    # The provider announces the charge before the request that made it has committed.
    charge = await runtime.payments.charge(
        method=PENDING, amount=Decimal("5.00"), currency="USD", key=f"subscribe:{fan.id}:k"
    )
    body, headers = signed_webhook(
        settings, "charge.succeeded", charge.reference, event_id="evt_early"
    )

    early = await client.post(WEBHOOK, content=body, headers=headers)
    subscribed = await subscribe(client, runtime, fan, creator, key="k", payment_method=PENDING)
    redelivered = await client.post(WEBHOOK, content=body, headers=headers)

    assert early.status_code == 404, early.text
    subscription, transaction = subscribed.json()["subscription"], subscribed.json()["transaction"]
    assert transaction["provider_reference"] == charge.reference
    assert redelivered.json() == {"received": True, "applied": True}
    assert await _state(session, subscription, transaction) == ("ACTIVE", "COMPLETED", 1, 1)


async def test_a_second_event_for_a_settled_payment_finds_nothing_pending(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    subscription, transaction = await _pending_subscription(client, session, runtime)
    reference = transaction["provider_reference"]
    succeeded, succeeded_headers = signed_webhook(settings, "charge.succeeded", reference)
    failed, failed_headers = signed_webhook(settings, "charge.failed", reference)

    await client.post(WEBHOOK, content=succeeded, headers=succeeded_headers)
    late = await client.post(WEBHOOK, content=failed, headers=failed_headers)

    assert late.json() == {"received": True, "applied": False, "reason": "nothing pending"}
    assert await _state(session, subscription, transaction) == ("ACTIVE", "COMPLETED", 1, 2)
