"""The baseline of the engagement bench: a minimal Starlette + asyncpg app that does the
least a counter needs, with none of dreamlust's rules.

- `POST /api/v1/content/{id}/views`: `UPDATE content SET view_count = view_count + 1
  WHERE id = $1`, one statement in autocommit; no visibility check, no viewer, no
  deduplication, no view row, no creator total.
- `PUT` / `DELETE /api/v1/content/{id}/like`: the caller is the `sub` of dreamlust's own
  access token (HS256, verified with the same key derivation); in one transaction the
  like row is inserted (`ON CONFLICT DO NOTHING RETURNING`) or deleted (`RETURNING`) and,
  when a row came or went, the creator's total and the item's count move; answers
  `{"liked": …, "like_count": …}` like dreamlust. No visibility check, no account lookup.

Run (as bench/engagement.py does):
    BENCH_DATABASE_URL=postgresql://… DREAMLUST_SECRET_KEY=… \
    uvicorn engagement_baseline:app --app-dir bench --loop uvloop --http httptools --workers 2
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

POOL_MIN = int(os.environ.get("BENCH_POOL_MIN", "10"))
POOL_MAX = int(os.environ.get("BENCH_POOL_MAX", "20"))

COUNT_VIEW = "UPDATE content SET view_count = view_count + 1 WHERE id = $1"
ADD_LIKE = """
INSERT INTO likes (id, content_id, user_id, created_at) VALUES ($1, $2, $3, now())
ON CONFLICT DO NOTHING RETURNING id
"""
REMOVE_LIKE = "DELETE FROM likes WHERE content_id = $1 AND user_id = $2 RETURNING id"
MOVE_CREATOR_LIKES = """
UPDATE creators SET total_likes = total_likes + $2
WHERE id = (SELECT creator_id FROM content WHERE id = $1)
"""
MOVE_CONTENT_LIKES = (
    "UPDATE content SET like_count = like_count + $2 WHERE id = $1 RETURNING like_count"
)
READ_LIKES = "SELECT like_count FROM content WHERE id = $1"


def _json(body: object, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def count_view(request: Request) -> Response:
    await request.app.state.pool.execute(COUNT_VIEW, uuid.UUID(request.path_params["id"]))
    return _json({"counted": True}, 202)


def _user_id(request: Request) -> uuid.UUID | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    try:
        claims = jwt.decode(token, request.app.state.token_key, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
    return uuid.UUID(claims["sub"])


async def toggle_like(request: Request) -> Response:
    user_id = _user_id(request)
    if user_id is None:
        return _json({"detail": "Sign in to do this."}, 401)
    content_id = uuid.UUID(request.path_params["id"])
    liking = request.method == "PUT"
    async with request.app.state.pool.acquire() as conn, conn.transaction():
        if liking:
            changed = await conn.fetchval(ADD_LIKE, uuid.uuid4(), content_id, user_id)
        else:
            changed = await conn.fetchval(REMOVE_LIKE, content_id, user_id)
        if changed is None:
            count = await conn.fetchval(READ_LIKES, content_id)
        else:
            delta = 1 if liking else -1
            await conn.execute(MOVE_CREATOR_LIKES, content_id, delta)
            count = await conn.fetchval(MOVE_CONTENT_LIKES, content_id, delta)
    return _json({"liked": liking, "like_count": count})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    dsn = os.environ["BENCH_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    secret = os.environ["DREAMLUST_SECRET_KEY"].encode()
    # dreamlust's derive_key(secret, "access-token")
    app.state.token_key = hmac.new(secret, b"dreamlust:access-token", hashlib.sha256).digest()
    app.state.pool = await asyncpg.create_pool(dsn, min_size=POOL_MIN, max_size=POOL_MAX)
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(
    routes=[
        Route("/api/v1/content/{id}/views", count_view, methods=["POST"]),
        Route("/api/v1/content/{id}/like", toggle_like, methods=["PUT", "DELETE"]),
    ],
    lifespan=lifespan,
)
