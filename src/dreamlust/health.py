"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, cast

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from dreamlust.dependencies import RuntimeDep

logger = logging.getLogger(__name__)
router = APIRouter(tags=["operations"])
_PROBE_TIMEOUT_SECONDS = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """The database (and Redis, when configured) can be reached."""
    checks: dict[str, Any] = {"database": await _check(_ping_database(runtime))}
    if runtime.redis is not None:
        checks["redis"] = await _check(_ping_redis(runtime))
    ready = all(state == "ok" for state in checks.values())
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )


async def _ping_database(runtime: RuntimeDep) -> None:
    async with runtime.database.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def _ping_redis(runtime: RuntimeDep) -> None:
    assert runtime.redis is not None
    await cast(Awaitable[bool], runtime.redis.ping())


async def _check(probe: Any) -> str:
    try:
        await asyncio.wait_for(probe, timeout=_PROBE_TIMEOUT_SECONDS)
    except Exception as exc:  # a probe reports any failure, it never raises
        logger.warning("readiness check failed: %s", exc)
        return "unavailable"
    return "ok"
