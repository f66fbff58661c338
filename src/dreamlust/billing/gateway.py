"""The payment gateway: what dreamlust asks of a payment provider, and the sandbox.

Every call carries an idempotency key: the provider answers a repeated key with the
outcome of the first call (the same reference), so a request retried after a crash
can never charge twice. A charge either succeeds at once, is declined at once, or is
PENDING until the provider settles it through a webhook (`billing.webhooks`).

The sandbox is the default provider, and complete enough to test every flow offline:
its outcome is decided by the payment method alone.

| method | charge |
|---|---|
| `pm_card_ok` (the default) and any other `pm_card_…` | succeeds |
| `pm_card_declined` | is declined |
| `pm_card_pending` | is PENDING; a `charge.succeeded` or `charge.failed` webhook settles it |

Refunds and payouts in the sandbox always succeed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

DEFAULT_METHOD = "pm_card_ok"
DECLINED_METHOD = "pm_card_declined"
PENDING_METHOD = "pm_card_pending"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    PENDING = "pending"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reference: str
    decline_reason: str | None = None


class PaymentGateway(Protocol):
    name: str

    def accepts(self, method: str) -> bool:
        """Whether `method` names a payment method this provider can charge."""

    async def charge(self, *, method: str, amount: Decimal, currency: str, key: str) -> Result:
        """Take `amount` from the payer's `method`."""

    async def refund(self, *, reference: str, amount: Decimal, currency: str, key: str) -> Result:
        """Give back (part of) the charge `reference`."""

    async def payout(self, *, amount: Decimal, currency: str, key: str) -> Result:
        """Send a creator's earnings to their payout account."""


class SandboxGateway:
    """A provider that moves no real money; deterministic by payment method and key."""

    name = "sandbox"

    def accepts(self, method: str) -> bool:
        return method.startswith("pm_card_") and len(method) <= 64

    async def charge(self, *, method: str, amount: Decimal, currency: str, key: str) -> Result:
        reference = _reference("ch", key)
        if method == DECLINED_METHOD:
            return Result(Outcome.DECLINED, reference, "The card was declined.")
        if method == PENDING_METHOD:
            return Result(Outcome.PENDING, reference)
        return Result(Outcome.SUCCEEDED, reference)

    async def refund(self, *, reference: str, amount: Decimal, currency: str, key: str) -> Result:
        return Result(Outcome.SUCCEEDED, _reference("re", key))

    async def payout(self, *, amount: Decimal, currency: str, key: str) -> Result:
        return Result(Outcome.SUCCEEDED, _reference("po", key))


def _reference(kind: str, key: str) -> str:
    return f"sbx_{kind}_{hashlib.sha256(key.encode()).hexdigest()[:32]}"
