"""HTTP surface of money: tiers, subscriptions, tips, purchases, the ledger, earnings,
withdrawals, refunds and the payment provider's webhooks.

Every POST that moves money takes an `Idempotency-Key` (see `billing.idempotency`) and
answers 201 with the JSON of its first run, replayed for retries.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Header, Query, Request, Response, status
from pydantic import BaseModel

from dreamlust.auth.dependencies import Admin, CreatorUser, CurrentUser
from dreamlust.billing import earnings as earnings_service
from dreamlust.billing import (
    idempotency,
    ledger,
    payments,
    payouts,
    subscriptions,
    tiers,
    webhooks,
)
from dreamlust.billing.dependencies import PaymentsDep
from dreamlust.billing.idempotency import IdempotencyKey
from dreamlust.billing.schemas import (
    Earnings,
    Period,
    PurchaseRead,
    PurchaseRequest,
    RefundCreate,
    Subscribed,
    SubscribeRequest,
    SubscriberRead,
    SubscriptionRead,
    SubscriptionUpdate,
    TierRead,
    TierSet,
    TipCreate,
    TransactionRead,
    WithdrawalCreate,
)
from dreamlust.content import service as content_service
from dreamlust.content.dependencies import ViewerDep
from dreamlust.creators import service as creators
from dreamlust.creators.schemas import HandlePath
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep
from dreamlust.kit.preconditions import IfMatch, expected_version, set_etag
from dreamlust.kit.schemas import Page
from dreamlust.models import Subscription
from dreamlust.request_session import api_router

router = api_router(tags=["money"])
_CREATED: dict[str, Any] = {"status_code": status.HTTP_201_CREATED}


@router.get("/creators/{handle}/tiers", response_model=list[TierRead])
async def list_tiers(handle: HandlePath, session: DbSession) -> list[Any]:
    creator = await creators.public_profile(session, handle, None)
    return await tiers.offered(session, creator)


@router.put("/creators/me/tiers", response_model=list[TierRead])
async def set_tiers(
    offer: TierSet, user: CreatorUser, session: DbSession, money: PaymentsDep
) -> list[Any]:
    creator = await creators.my_profile(session, user)
    return await tiers.offer(session, money, creator, offer)


@router.post("/creators/{handle}/subscriptions", response_model=Subscribed, **_CREATED)
async def subscribe(
    handle: HandlePath,
    body: SubscribeRequest,
    user: CurrentUser,
    session: DbSession,
    money: PaymentsDep,
    request: Request,
    key: IdempotencyKey = None,
) -> Response:
    async def run(checked_key: str) -> Subscribed:
        creator = await creators.public_profile(session, handle, None)
        subscription, transaction = await subscriptions.subscribe(
            session, money, user, creator, body, checked_key
        )
        return Subscribed(
            subscription=SubscriptionRead.model_validate(subscription),
            transaction=TransactionRead.model_validate(transaction),
        )

    return await _once(request, session, money, user.id, key, body, run)


@router.get("/subscriptions", response_model=Page[SubscriptionRead])
async def my_subscriptions(
    user: CurrentUser, session: DbSession, page: PageParams, paginator: PaginatorDep
) -> Page[SubscriptionRead]:
    result = await subscriptions.of_subscriber(session, user, page, paginator)
    return Page[SubscriptionRead].model_validate(result)


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionRead)
async def read_subscription(
    subscription_id: uuid.UUID, user: CurrentUser, session: DbSession, response: Response
) -> Subscription:
    subscription = await subscriptions.mine(session, user, subscription_id, to_change=False)
    set_etag(response, subscription)
    return subscription


@router.patch("/subscriptions/{subscription_id}", response_model=SubscriptionRead)
async def change_subscription(
    subscription_id: uuid.UUID,
    changes: SubscriptionUpdate,
    user: CurrentUser,
    session: DbSession,
    money: PaymentsDep,
    response: Response,
    if_match: IfMatch = None,
) -> Subscription:
    version = expected_version(if_match, changes.version)
    subscription = await subscriptions.mine(session, user, subscription_id)
    changed = await subscriptions.change(
        session, money, subscription, changes, expected_version=version
    )
    set_etag(response, changed)
    return changed


@router.delete("/subscriptions/{subscription_id}", response_model=SubscriptionRead)
async def cancel_subscription(
    subscription_id: uuid.UUID, user: CurrentUser, session: DbSession, response: Response
) -> Subscription:
    subscription = await subscriptions.mine(session, user, subscription_id)
    cancelled = await subscriptions.cancel(session, subscription)
    set_etag(response, cancelled)
    return cancelled


@router.get("/creators/me/subscribers", response_model=Page[SubscriberRead])
async def my_subscribers(
    user: CreatorUser, session: DbSession, page: PageParams, paginator: PaginatorDep
) -> Page[SubscriberRead]:
    creator = await creators.my_profile(session, user)
    rows = await subscriptions.subscribers(session, creator, page, paginator)
    return Page[SubscriberRead](
        items=[
            SubscriberRead(
                subscription=SubscriptionRead.model_validate(row[0]),
                username=row.username,
                display_name=row.display_name,
            )
            for row in rows.items
        ],
        next_cursor=rows.next_cursor,
    )


@router.post("/creators/{handle}/tips", response_model=TransactionRead, **_CREATED)
async def tip(
    handle: HandlePath,
    body: TipCreate,
    user: CurrentUser,
    session: DbSession,
    money: PaymentsDep,
    request: Request,
    key: IdempotencyKey = None,
) -> Response:
    async def run(checked_key: str) -> TransactionRead:
        creator = await creators.public_profile(session, handle, None)
        transaction = await payments.tip(session, money, user, creator, body, checked_key)
        return TransactionRead.model_validate(transaction)

    return await _once(request, session, money, user.id, key, body, run)


@router.post("/content/{content_id}/purchase", response_model=PurchaseRead, **_CREATED)
async def purchase(
    content_id: uuid.UUID,
    user: CurrentUser,
    viewer: ViewerDep,
    session: DbSession,
    money: PaymentsDep,
    request: Request,
    key: IdempotencyKey = None,
    body: PurchaseRequest | None = None,
) -> Response:
    async def run(checked_key: str) -> PurchaseRead:
        content = await content_service.viewable(session, content_id, viewer)
        transaction, entitled = await payments.purchase(
            session, money, user, content, body or PurchaseRequest(), checked_key
        )
        return PurchaseRead(
            content_id=content.id,
            entitled=entitled,
            transaction=TransactionRead.model_validate(transaction),
        )

    return await _once(request, session, money, user.id, key, body, run)


@router.get("/transactions", response_model=Page[TransactionRead])
async def my_transactions(
    user: CurrentUser, session: DbSession, page: PageParams, paginator: PaginatorDep
) -> Page[TransactionRead]:
    result = await ledger.transactions_of(session, user, page, paginator)
    return Page[TransactionRead].model_validate(result)


@router.get("/creators/me/earnings", response_model=Earnings)
async def my_earnings(
    user: CreatorUser,
    session: DbSession,
    period: Period = "month",
    limit: Annotated[
        int, Query(ge=1, le=366, description="How many of the latest periods to show.")
    ] = 12,
) -> Earnings:
    creator = await creators.my_profile(session, user)
    return await earnings_service.earnings(session, creator, period, limit)


@router.post("/creators/me/withdrawals", response_model=TransactionRead, **_CREATED)
async def withdraw(
    body: WithdrawalCreate,
    user: CreatorUser,
    session: DbSession,
    money: PaymentsDep,
    request: Request,
    key: IdempotencyKey = None,
) -> Response:
    async def run(checked_key: str) -> TransactionRead:
        creator = await creators.my_profile(session, user)
        transaction = await payouts.withdraw(session, money, creator, body, checked_key)
        return TransactionRead.model_validate(transaction)

    return await _once(request, session, money, user.id, key, body, run)


@router.post(
    "/admin/transactions/{transaction_id}/refund", response_model=TransactionRead, **_CREATED
)
async def refund(
    transaction_id: uuid.UUID,
    admin: Admin,
    session: DbSession,
    money: PaymentsDep,
    request: Request,
    key: IdempotencyKey = None,
    body: RefundCreate | None = None,
) -> Response:
    async def run(checked_key: str) -> TransactionRead:
        entry = await payouts.refund(
            session,
            money,
            admin,
            transaction_id,
            body or RefundCreate(),
            checked_key,
        )
        return TransactionRead.model_validate(entry)

    return await _once(request, session, money, admin.id, key, body, run)


@router.post("/webhooks/payments")
async def payment_webhook(
    request: Request,
    session: DbSession,
    money: PaymentsDep,
    signature: Annotated[str | None, Header(alias=webhooks.SIGNATURE_HEADER)] = None,
) -> dict[str, Any]:
    event = webhooks.verify(
        money.settings.webhook_secret(),
        signature,
        await request.body(),
        money.settings.payment_webhook_tolerance_seconds,
    )
    return await webhooks.receive(session, money, event)


async def _once(
    request: Request,
    session: DbSession,
    money: PaymentsDep,
    user_id: uuid.UUID,
    key: str | None,
    body: BaseModel | None,
    run: Callable[[str], Awaitable[BaseModel]],
) -> Response:
    """Run a money request once per Idempotency-Key (see `billing.idempotency`)."""
    return await idempotency.once(
        session,
        user_id=user_id,
        key=key,
        request_hash=idempotency.fingerprint(request.method, request.url.path, body),
        keep_hours=money.settings.idempotency_key_hours,
        status_code=status.HTTP_201_CREATED,
        run=run,
    )
