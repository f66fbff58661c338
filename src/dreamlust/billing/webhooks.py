"""The payment provider's webhooks: signed, fresh, and applied once.

The provider signs each delivery the way Stripe does: the header
`Dreamlust-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed by
the webhook secret. A delivery whose signature does not match, or whose time is
further than `payment_webhook_tolerance_seconds` from ours, is refused (400) and
changes nothing: a captured delivery cannot be replayed later. Each event id is kept
(`payment_events`), so a redelivered event is acknowledged and not applied again. An
event for a payment not recorded yet (its request has not committed) is refused (404)
and not kept, so that the provider's next delivery of it is applied.

Events settle PENDING payments: `charge.succeeded` completes the payment and grants
what it paid for (the subscription's period, the item bought); `charge.failed` fails
it, and a subscription it paid for is FAILED (then retried by the renewal job), or
EXPIRED if it had never started; an upgrade it paid for is undone (the period already
paid for runs on at the tier it came from).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing import notices, subscriptions
from dreamlust.billing import payments as purchases
from dreamlust.billing.ledger import Payments
from dreamlust.billing.repository import (
    SubscriptionRepository,
    TransactionRepository,
    record_event,
)
from dreamlust.errors import BadRequest, NotFound
from dreamlust.kit.clock import utcnow
from dreamlust.models import Transaction
from dreamlust.models.enums import SubscriptionStatus, TransactionStatus, TransactionType

SIGNATURE_HEADER = "Dreamlust-Signature"


class _Data(BaseModel):
    model_config = ConfigDict(extra="allow")

    reference: str = Field(min_length=1, max_length=255)


class Event(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=255)
    type: str = Field(min_length=1, max_length=100)
    data: _Data


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header of a delivery (the provider's side; used by the sandbox)."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: bytes, header: str | None, body: bytes, tolerance: int) -> Event:
    """The event of a delivery whose signature and time check out; 400 otherwise."""
    if not header:
        raise BadRequest(f"The {SIGNATURE_HEADER} header is missing.")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not _is_unix_time(timestamp) or not given:
        raise BadRequest(f"The {SIGNATURE_HEADER} header is malformed.")
    expected = sign(secret, int(timestamp), body).split("v1=", 1)[1]
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise BadRequest("The webhook signature does not match.")
    if abs(time.time() - int(timestamp)) > tolerance:
        raise BadRequest("The webhook is too old (or from the future); it is refused.")
    try:
        return Event.model_validate(orjson.loads(body))
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise BadRequest("The webhook body is not a payment event.") from exc


def _is_unix_time(value: str) -> bool:
    """Digits of a plausible size, ASCII only: `int` refuses some that `isdigit` takes
    (and more than 4300 of them), and a header is latin-1, not ASCII."""
    return value.isascii() and value.isdigit() and len(value) <= 12


async def receive(session: AsyncSession, payments: Payments, event: Event) -> dict[str, Any]:
    """Apply the event once; what happened, for the provider's logs."""
    transactions = TransactionRepository(session)
    found = await transactions.by_reference(event.data.reference)
    if found is None:
        raise NotFound("No payment has this reference (yet); deliver the event again later.")
    # Locked in the order refunds take: the subscription, then the payment.
    if found.subscription_id is not None:
        await SubscriptionRepository(session).locked(found.subscription_id)
    transaction = await transactions.locked(found.id)
    assert transaction is not None
    payload = event.model_dump(mode="json")
    if not await record_event(session, payments.gateway.name, event.id, event.type, payload):
        return {"received": True, "applied": False, "reason": "duplicate"}
    if transaction.status is not TransactionStatus.PENDING:
        return {"received": True, "applied": False, "reason": "nothing pending"}
    if event.type == "charge.succeeded":
        await _settle(session, transaction)
    elif event.type == "charge.failed":
        await _fail(session, payments, transaction)
    else:
        return {"received": True, "applied": False, "reason": "event type ignored"}
    await session.flush()
    return {"received": True, "applied": True}


async def _settle(session: AsyncSession, transaction: Transaction) -> None:
    transaction.status = TransactionStatus.COMPLETED
    if transaction.type is TransactionType.PREMIUM_CONTENT:
        await purchases.grant(session, transaction)
    if transaction.subscription_id is None:
        await notices.payment_received(session, transaction)
        return
    subscription = await SubscriptionRepository(session).locked(transaction.subscription_id)
    if subscription is not None and subscription.status is SubscriptionStatus.PENDING:
        await subscriptions.set_status(session, subscription, SubscriptionStatus.ACTIVE)
        await notices.payment_received(session, transaction)


async def _fail(session: AsyncSession, payments: Payments, transaction: Transaction) -> None:
    transaction.status = TransactionStatus.FAILED
    if transaction.subscription_id is None:
        return
    subscription = await SubscriptionRepository(session).locked(transaction.subscription_id)
    if subscription is None:
        return
    upgraded_from = (transaction.details or {}).get("upgrade_from")
    if subscription.status is SubscriptionStatus.PENDING:
        await subscriptions.set_status(session, subscription, SubscriptionStatus.EXPIRED)
    elif upgraded_from is not None:
        subscriptions.undo_upgrade(subscription, upgraded_from)
    elif subscriptions.is_live(subscription.status):
        if transaction.period_start is not None:
            subscription.current_period_end = transaction.period_start
        subscription.failed_attempts += 1
        subscription.retry_at = utcnow() + timedelta(hours=payments.settings.renewal_retry_hours)
        await subscriptions.set_status(session, subscription, SubscriptionStatus.FAILED)
