"""What is known about the request being served: its id and, once known, who sent it.

The request middleware (`observability/middleware.py`) opens one `RequestContext` per
request; code below it reads it (every log line carries the request id) or adds to it
(`identify_user`). Tasks started while serving a request inherit it.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar, Token
from dataclasses import dataclass

from dreamlust.kit.ids import new_id_hex

REQUEST_ID_HEADER = b"x-request-id"
NO_REQUEST_ID = "-"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


@dataclass(slots=True)
class RequestContext:
    request_id: str
    user_id: str | None = None


_current: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


def open_request(
    headers: list[tuple[bytes, bytes]],
) -> tuple[RequestContext, Token[RequestContext | None]]:
    """The context of a new request, current from now on: its id is the client's
    `X-Request-ID` when that is safe to echo and log, else a new one."""
    context = RequestContext(_incoming_request_id(headers) or new_id_hex())
    return context, _current.set(context)


def close_request(token: Token[RequestContext | None]) -> None:
    _current.reset(token)


def current_request() -> RequestContext | None:
    return _current.get()


def current_request_id() -> str:
    context = _current.get()
    return NO_REQUEST_ID if context is None else context.request_id


def identify_user(user_id: uuid.UUID) -> None:
    """Note who the request is from (the subject of its access token)."""
    context = _current.get()
    if context is not None:
        context.user_id = str(user_id)


def _incoming_request_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == REQUEST_ID_HEADER:
            candidate = value.decode("latin-1")
            return candidate if _SAFE_REQUEST_ID.match(candidate) else None
    return None
