"""The general rate limit on writes: every POST, PUT, PATCH and DELETE of the API counts
against its client's address and, when it carries a valid access token, its account.

The limit sits in front of each write route's ASGI handler (pure ASGI, before FastAPI
parses anything), so reads pay nothing for it: their routes are left as they are.

One budget per client covers all writes (not one per route): a client allowed 120 writes
a minute on each of sixty routes would in effect be allowed thousands, and a budget the
client can read from any response is one it can pace itself by. The stricter limits of
particular actions (sign-in, comments, uploads …) still apply inside the routes.

Every response of a limited route carries `RateLimit-Limit`, `RateLimit-Remaining` and
`RateLimit-Reset` (seconds) for the tightest limit the request was counted against; a
refusal is a 429 with `Retry-After`. Without the Redis the counts live in, writes are
refused with a 503, like every rate-limited action.

A write's limits are counted in one round trip to Redis, before its route runs; a route
of `WRITES_COUNTED_BY_ROUTE` counts them itself (`write_hits`), in a Redis call it makes
anyway, so that the hit costs no round trip of its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dreamlust.access_tokens import AccessTokens
from dreamlust.config import API_PREFIX
from dreamlust.errors import ServiceUnavailable, Unauthorized
from dreamlust.kit.client_address import client_address
from dreamlust.kit.rate_limit import GeneralHits, Limit, QuotaReport, reporting_quotas
from dreamlust.runtime import runtime_of

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Writes the general limit leaves alone (method, path), and why.
UNLIMITED_WRITES = frozenset(
    {
        # Signed by the payment provider, which retries what is refused: a 429 would only
        # delay settlements. The signature check keeps everyone else out.
        ("POST", f"{API_PREFIX}/webhooks/payments"),
        # The chunks of a tus upload: the upload was counted when it was created
        # (`rate_limit_upload`), and a client may send many small chunks a second.
        ("PATCH", f"{API_PREFIX}/uploads/{{asset_id}}"),
    }
)

# Writes whose routes count the general limit themselves (`write_hits`), and why.
WRITES_COUNTED_BY_ROUTE = frozenset(
    {
        # Recording a view, the most frequent write, calls a Redis script of its own when
        # views are buffered there (`views/buffer.py`): the script counts the hits as well.
        ("POST", f"{API_PREFIX}/content/{{content_id}}/views"),
    }
)

_RATE_LIMIT_HEADER = b"ratelimit-limit"
_HITS_KEY = "dreamlust.write_hits"


def limit_writes(routers: Iterable[APIRouter]) -> None:
    """Put the general write limit in front of every write route of `routers` but the
    `UNLIMITED_WRITES`. Routers are shared by every application made from them: a route
    already limited is left as it is."""
    unmatched = UNLIMITED_WRITES | WRITES_COUNTED_BY_ROUTE
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            route_methods = route.methods or set()
            writes = {(m, route.path_format) for m in route_methods}
            exempt = writes & UNLIMITED_WRITES
            unmatched -= writes
            methods = WRITE_METHODS.intersection(route_methods) - {m for m, _path in exempt}
            if methods and not isinstance(route.handle, WriteLimited):
                by_route = bool(writes & WRITES_COUNTED_BY_ROUTE)
                # Not `route.app`: FastAPI serves an included route through an app of each
                # inclusion's own, always by way of the route's `handle`.
                route.handle = WriteLimited(route.handle, methods, counted_by_route=by_route)  # type: ignore[method-assign]
    if unmatched:
        raise RuntimeError(f"the write limits name routes that do not exist: {unmatched}")


def write_hits(request: Request) -> GeneralHits | None:
    """The general limits' hits of this write, for its route (one of
    `WRITES_COUNTED_BY_ROUTE`) to count before it reads or writes what it acts on: by
    `GeneralHits.count()` or in a Redis script of its own. None while limits are off."""
    hits: GeneralHits | None = request.scope.pop(_HITS_KEY, None)
    return hits


class WriteLimited:
    """A route's handler behind the general write limit, for the `methods` it limits;
    `counted_by_route`: the route counts the hits itself (`write_hits`)."""

    def __init__(
        self, handle: ASGIApp, methods: frozenset[str], *, counted_by_route: bool = False
    ) -> None:
        self.handle = handle
        self.methods = methods
        self.counted_by_route = counted_by_route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        runtime = runtime_of(request)
        limiter = runtime.rate_limiter
        if not limiter.enabled or scope["method"] not in self.methods:
            await self.handle(scope, receive, send)
            return
        with reporting_quotas() as report:
            address = client_address(request, runtime.settings.trusted_proxies)
            counted = [(Limit.WRITE_PER_ADDRESS, address)]
            account = _account(request, runtime.access_tokens)
            if account is not None:
                counted.append((Limit.WRITE_PER_ACCOUNT, account))
            hits = limiter.general_hits(*counted)
            assert hits is not None  # the limiter is enabled
            send = _reporting_quota(send, report)
            if not self.counted_by_route:
                await hits.count()
                await self.handle(scope, receive, send)
                return
            scope[_HITS_KEY] = hits
            await self.handle(scope, receive, _counting_untaken(scope, hits, send))


def _counting_untaken(scope: Scope, hits: GeneralHits, send: Send) -> Send:
    """`send`, first counting the `hits` if the route never took them: it was answered
    before it ran (a 422). The answer stands; the hits count all the same."""

    async def send_counted(message: Message) -> None:
        if message["type"] == "http.response.start" and scope.pop(_HITS_KEY, None) is not None:
            with suppress(ServiceUnavailable):  # only the quota then goes unreported
                await hits.count(refuse=False)
        await send(message)

    return send_counted


def _account(request: Request, tokens: AccessTokens) -> str | None:
    """The account of a valid bearer token; None for anyone else (the route answers an
    invalid token with a 401, and until then the address alone is counted)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        return str(tokens.decode(token.strip()).user_id)
    except Unauthorized:
        return None


def _reporting_quota(send: Send, report: QuotaReport) -> Send:
    """`send`, adding the tightest quota's headers to the response unless it has them
    already (a refusal inside the route reports the refused limit itself)."""

    async def send_with_quota(message: Message) -> None:
        if message["type"] == "http.response.start" and report.tightest is not None:
            headers = list(message.get("headers", []))
            if all(name.lower() != _RATE_LIMIT_HEADER for name, _value in headers):
                headers += [
                    (name.lower().encode(), value.encode())
                    for name, value in report.tightest.headers().items()
                ]
                message["headers"] = headers
        await send(message)

    return send_with_quota
