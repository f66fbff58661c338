"""Idempotency keys of money-moving POSTs, with the semantics payment APIs use.

- The same key and the same request (method, path and body) → the first response,
  replayed byte for byte, and nothing runs again.
- The same key with a different request → 422.
- A key is kept `idempotency_key_hours` (at least 24 h), then may be used afresh for
  another request. The provider still knows the key of the charge it made: the very
  same charge asked again with an expired key is refused (409), never made twice.
- No key → 428 Precondition Required.

The key is claimed in the request's own transaction, and the response is stored in it
too: the money moved and the answer kept commit together or not at all, and a request
that fails leaves the key free for a retry. A concurrent request with the same key
waits on the claim until the first commits (PostgreSQL; on SQLite writers queue anyway)
and then replays its answer; one that finds the key claimed but unanswered (possible
only when the claim committed without its answer) gets 409.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated

import orjson
from fastapi import Header, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.billing.repository import IdempotencyRepository
from dreamlust.errors import BadRequest, Conflict, InvalidInput, PreconditionRequired
from dreamlust.kit.clock import utcnow

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="A unique key per operation (a UUID): a retry with the same key "
        "and body returns the first response and never moves money twice.",
    ),
]


def fingerprint(method: str, path: str, body: BaseModel | None) -> str:
    payload = body.model_dump(mode="json") if body is not None else None
    canonical = orjson.dumps([method, path, payload], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


def _required_key(key: str | None) -> str:
    if key is None:
        raise PreconditionRequired(
            "Requests that move money need an Idempotency-Key header (a UUID per operation)."
        )
    if not key.isascii() or not key.isprintable() or " " in key or not key:
        raise BadRequest("The Idempotency-Key must be 1 to 255 visible ASCII characters.")
    return key


async def once(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    key: str | None,
    request_hash: str,
    keep_hours: int,
    status_code: int,
    run: Callable[[str], Awaitable[BaseModel]],
) -> Response:
    """Run `run` once for this key (given to it, checked) and answer its result as
    JSON, or replay the answer of the request that used the key first."""
    key = _required_key(key)
    records = IdempotencyRepository(session)
    now = utcnow()
    while not await records.claim(user_id, key, request_hash, now + timedelta(hours=keep_hours)):
        record = await records.find(user_id, key)
        if record is None:  # its holder rolled back between our claim and our look
            continue
        if record.expires_at <= now:
            await records.forget(record.id)
            continue
        if record.request_hash != request_hash:
            raise InvalidInput(
                "This Idempotency-Key was used for a different request; use a new key.",
                loc=("header", "Idempotency-Key"),
            )
        if record.response_status is None or record.response_body is None:
            raise Conflict("A request with this Idempotency-Key is still in progress.")
        return _json(record.response_body.encode(), record.response_status)
    body = (await run(key)).model_dump_json()
    await records.store(user_id, key, status_code, body)
    return _json(body.encode(), status_code)


def _json(body: bytes, status_code: int) -> Response:
    return Response(body, status_code=status_code, media_type="application/json")
