"""Cached answers that are the same for every viewer: creator pages, the category list
and the popular tags."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from fastapi import Response
from pydantic import BaseModel

from dreamlust.cache.entries import Answer
from dreamlust.cache.read_cache import ReadCache


def json_answer(model: BaseModel, etag: str | None = None) -> Answer:
    return Answer(body=model.model_dump_json().encode(), etag=etag)


async def serve_public(
    cache: ReadCache | None,
    *,
    name: str,
    key: str,
    scopes: Sequence[str],
    read: Callable[[], Awaitable[Answer]],
) -> Response:
    """What `read` answers, shared from the cache."""
    if cache is None:
        return (await read()).response()
    return (await cache.fetch(name, f"{name}:{key}", scopes, read)).response()
