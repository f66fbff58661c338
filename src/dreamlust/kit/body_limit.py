"""A bound on every request body, in one plain ASGI middleware: past it, a 413 problem.

FastAPI reads a JSON or form body whole into memory before any code of ours runs, so
without a bound one request could take the process's memory. A body that announces a
length over the limit is refused unread; one sent without a length is cut off once it
passes the limit. (FastAPI's own `max_body_size` answers an announced length with a
`text/plain` 413 whatever the application answers, hence this one.)

Uploads stream their bodies to disk under limits of their own (the file size, the
single-request limit, the quota), so their routes are left out.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dreamlust.errors import problem

_CONTENT_LENGTH = b"content-length"
_TRANSFER_ENCODING = b"transfer-encoding"
# HTTP/1 versions, in which a request with neither header has no body (RFC 9112, 6.3).
_HTTP1 = frozenset({"1.0", "1.1"})


class BodyLimit:
    """Refuses request bodies over `limit` bytes but on the routes of the `exempt` path
    templates (`/api/v1/uploads/{asset_id}`)."""

    def __init__(self, app: ASGIApp, *, limit: int, exempt: Iterable[str] = ()) -> None:
        self.app = app
        self.limit = limit
        self._exempt = tuple(compile_path(path)[0] for path in dict.fromkeys(exempt))
        self._detail = f"The request body is larger than {limit} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, has_body = _announced_body(scope)
        if (
            not has_body
            or (declared is not None and declared <= self.limit)
            or self._is_exempt(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        if declared is not None:
            await problem(413, self._detail)(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    # An HTTP error is what FastAPI lets through from reading a body.
                    raise HTTPException(413, self._detail)
            return message

        await self.app(scope, limited_receive, send)

    def _is_exempt(self, path: str) -> bool:
        return any(pattern.match(path) for pattern in self._exempt)


def _announced_body(scope: Scope) -> tuple[int | None, bool]:
    """The length the request's body announces (None when it announces none, or one
    that is not a number), and whether it may have a body at all."""
    streamed = scope.get("http_version") not in _HTTP1
    for name, value in scope["headers"]:
        if name == _CONTENT_LENGTH:
            return (int(value) if value.isdigit() else None), True
        if name == _TRANSFER_ENCODING:
            streamed = True
    return None, streamed
