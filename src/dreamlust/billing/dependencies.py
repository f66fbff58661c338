"""Dependencies of the money routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from dreamlust.billing.ledger import Payments
from dreamlust.runtime import runtime_of


async def get_payments(request: Request) -> Payments:
    runtime = runtime_of(request)
    return Payments(runtime.settings, runtime.payments)


PaymentsDep = Annotated[Payments, Depends(get_payments)]
