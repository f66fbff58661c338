"""`GET /metrics`: the Prometheus text exposition, for the clients `scrape_access` admits.

Anyone else gets the 404 of a path that does not exist, so the endpoint is not advertised
to the public. The gauges that describe shared state (the view buffer in Redis) are read
when scraped; everything else is kept current as it happens.
"""

from __future__ import annotations

import asyncio
import logging

from anyio import to_thread
from fastapi import APIRouter, Request, Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException

from dreamlust.observability.metrics import MULTIPROCESS_DIRECTORY, VIEW_BUFFER_BACKLOG
from dreamlust.observability.scrape_access import may_scrape
from dreamlust.runtime import Runtime, runtime_of
from dreamlust.views.service import buffer_of

logger = logging.getLogger(__name__)
router = APIRouter(tags=["operations"], include_in_schema=False)
_REDIS_TIMEOUT_SECONDS = 2.0


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    runtime = runtime_of(request)
    if not may_scrape(request, runtime.settings):
        raise HTTPException(404)
    await _read_view_backlog(runtime)
    if MULTIPROCESS_DIRECTORY is None:
        body = generate_latest(REGISTRY)
    else:
        body = await to_thread.run_sync(_every_process, MULTIPROCESS_DIRECTORY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _every_process(directory: str) -> bytes:
    """The metrics of all worker processes, added up from their files."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry)


async def _read_view_backlog(runtime: Runtime) -> None:
    buffer = buffer_of(runtime)
    if buffer is None:
        VIEW_BUFFER_BACKLOG.set(0)
        return
    try:
        backlog = await asyncio.wait_for(buffer.backlog(), timeout=_REDIS_TIMEOUT_SECONDS)
    except (RedisError, OSError, TimeoutError) as exc:
        logger.warning("view buffer backlog not read: %s", exc)
        return
    VIEW_BUFFER_BACKLOG.set(backlog)
