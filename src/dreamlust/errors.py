"""One error hierarchy; one place that turns errors into RFC 9457 problem+json."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from dreamlust.observability.metrics import OPTIMISTIC_LOCK_CONFLICTS, RATE_LIMIT_REFUSALS

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    416: "Range Not Satisfiable",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    460: "Checksum Mismatch",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


class DreamlustError(Exception):
    """An error a client can act on: it becomes a problem+json response as it is."""

    status: int = 500
    slug: str = "internal-error"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}


class BadRequest(DreamlustError):
    status, slug = 400, "bad-request"


class InvalidCursor(BadRequest):
    slug = "invalid-cursor"


class Unauthorized(DreamlustError):
    status, slug = 401, "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class PaymentDeclined(DreamlustError):
    """The payment provider refused the charge; nothing was bought and nothing moved."""

    status, slug = 402, "payment-declined"


class Forbidden(DreamlustError):
    status, slug = 403, "forbidden"


class NotFound(DreamlustError):
    status, slug = 404, "not-found"


class Conflict(DreamlustError):
    status, slug = 409, "conflict"


class PreconditionFailed(DreamlustError):
    status, slug = 412, "precondition-failed"


class PreconditionRequired(DreamlustError):
    status, slug = 428, "precondition-required"


class StaleVersion(DreamlustError):
    """The client's version of a resource is not the current one (412 or 409, see handler)."""

    status, slug = 409, "version-conflict"


class InvalidInput(DreamlustError):
    """A well-formed request whose values break a rule; `loc` names the field at fault."""

    status, slug = 422, "invalid-input"

    def __init__(self, detail: str, *, loc: Sequence[str] | None = None) -> None:
        super().__init__(detail)
        self.errors = [{"loc": list(loc), "msg": detail}] if loc else None


class ServiceUnavailable(DreamlustError):
    status, slug = 503, "service-unavailable"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(retry_after, 1))})


class RateLimited(DreamlustError):
    """Refused by a rate limit; `headers` may add the refused limit's `RateLimit-*` fields,
    and `limit` names the limit for the refusals metric."""

    status, slug = 429, "rate-limited"

    def __init__(
        self,
        detail: str,
        *,
        retry_after: int,
        headers: Mapping[str, str] | None = None,
        limit: str | None = None,
    ) -> None:
        super().__init__(
            detail, headers={**(headers or {}), "Retry-After": str(max(retry_after, 1))}
        )
        self.limit = limit


def problem(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    errors: Sequence[dict[str, Any]] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:dreamlust:problem:{slug or _default_slug(status)}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = list(errors)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def _default_slug(status: int) -> str:
    return _TITLES.get(status, "error").lower().replace(" ", "-")


def problem_response(error: DreamlustError) -> JSONResponse:
    """The response for an error that is answered rather than raised."""
    return problem(
        error.status,
        error.detail,
        slug=error.slug,
        headers=error.headers,
        errors=getattr(error, "errors", None),
    )


async def _dreamlust_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DreamlustError)
    return problem_response(exc)


async def _rate_limited(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    RATE_LIMIT_REFUSALS.labels(exc.limit or "any").inc()
    return problem_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg", ""))}
        for error in exc.errors()
    ]
    return problem(422, "The request is not valid.", slug="validation-error", errors=errors)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem(exc.status_code, detail, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    """The methods of the path the request names: those of every route of its template,
    the concrete template where one is (`/creators/me/tiers` before
    `/creators/{handle}/tiers`, as OpenAPI matches paths). Routing answers 405 with the
    methods of the first matching route only: one method of several where each method
    of a path is a route of its own."""
    path = request.scope["path"]
    contexts = [c for c in iter_route_contexts(request.app.routes) if c.path_format]
    templates = {
        template
        for c in contexts
        if (template := c.path_format) and compile_path(template)[0].match(path)
    }
    template = min(templates, key=lambda t: (t.count("{"), t), default=None)
    allowed = {m for c in contexts if c.path_format == template for m in c.methods or ()}
    return sorted(allowed)


async def _stale_data(request: Request, _exc: Exception) -> JSONResponse:
    OPTIMISTIC_LOCK_CONFLICTS.inc()
    detail = "The resource was changed by someone else; reload it and try again."
    if "if-match" in request.headers:
        return problem(412, detail, slug="precondition-failed")
    return problem(409, detail, slug="version-conflict")


async def _integrity_error(_request: Request, exc: Exception) -> JSONResponse:
    logger.info("integrity error turned into 409: %s", getattr(exc, "orig", exc))
    return problem(409, "The request conflicts with existing data.", slug="conflict")


# Deadlock, serialization failure, lock not available: the transaction was rolled back
# whole and the same request may simply be sent again.
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


# The server is shutting down or starting up (a restart, a failover), or the connection
# to it is broken (class 08).
_UNREACHABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def _is_transient(exc: DBAPIError) -> bool:
    if getattr(exc.orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
        return True
    return "database is locked" in str(exc.orig)  # SQLite's busy timeout ran out


def _is_unreachable(exc: DBAPIError) -> bool:
    """The database went away under the request: the connection was lost (SQLAlchemy
    then discards it and the pool's others, so the next requests connect afresh) or
    could not be made."""
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    return (
        exc.connection_invalidated
        or sqlstate in _UNREACHABLE_SQLSTATES
        or sqlstate.startswith("08")
    )


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    if _is_unreachable(exc):
        return _database_unreachable(exc)
    if not _is_transient(exc):
        return await _unexpected_error(request, exc)
    logger.warning("transient database error turned into 503: %s", exc.orig)
    return _try_again_shortly(
        "The database could not complete the request this time; nothing was changed. "
        "Send it again.",
        "database-busy",
    )


async def _pool_exhausted(_request: Request, exc: Exception) -> JSONResponse:
    """No connection of the process's pool came free within the pool's timeout: the
    database is too busy for now, not broken."""
    logger.warning("no database connection came free, answered 503: %s", exc)
    return _try_again_shortly(
        "The database is too busy to take the request now; send it again shortly.",
        "database-busy",
    )


async def _connection_refused(_request: Request, exc: Exception) -> JSONResponse:
    """A connection to a server the request needs could not be made: the database
    driver, for one, raises the socket's error as it is when a connection is refused."""
    logger.warning("connection failed, answered 503: %s", exc)
    return _try_again_shortly(
        "A server this request needs cannot be reached right now; send it again shortly.",
        "service-unavailable",
    )


def _database_unreachable(exc: DBAPIError) -> JSONResponse:
    logger.warning("database unreachable, answered 503: %s", exc.orig)
    return _try_again_shortly(
        "The database cannot be reached right now; send the request again shortly.",
        "database-unavailable",
    )


def _try_again_shortly(detail: str, slug: str) -> JSONResponse:
    """A 503 for a store that is briefly out of reach: the client may send it again."""
    return problem(503, detail, slug=slug, headers={"Retry-After": "1"})


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    return problem(500, "An unexpected error occurred.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StaleVersion, _stale_data)
    app.add_exception_handler(RateLimited, _rate_limited)
    app.add_exception_handler(DreamlustError, _dreamlust_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StaleDataError, _stale_data)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(PoolTimeout, _pool_exhausted)
    app.add_exception_handler(ConnectionError, _connection_refused)
    app.add_exception_handler(Exception, _unexpected_error)
