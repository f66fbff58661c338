"""Typed dependencies shared by every router.

Dependencies that do no I/O are still `async def`: FastAPI runs a plain `def` dependency
in its thread pool, a thread hand-off per dependency per request that costs more CPU
than the work itself (see bench/README.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.kit.client_address import client_address
from dreamlust.kit.pagination import PageRequest, Paginator
from dreamlust.kit.rate_limit import RateLimiter
from dreamlust.request_session import get_session
from dreamlust.runtime import Runtime, runtime_of


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_settings(request: Request) -> Settings:
    return runtime_of(request).settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


DbSession = Annotated[AsyncSession, Depends(get_session)]


async def get_paginator(request: Request) -> Paginator:
    return runtime_of(request).paginator


PaginatorDep = Annotated[Paginator, Depends(get_paginator)]


PageParams = Annotated[PageRequest, Query()]


async def get_rate_limiter(request: Request) -> RateLimiter:
    return runtime_of(request).rate_limiter


RateLimiterDep = Annotated[RateLimiter, Depends(get_rate_limiter)]


async def get_client_address(request: Request, settings: SettingsDep) -> str:
    return client_address(request, settings.trusted_proxies)


ClientAddress = Annotated[str, Depends(get_client_address)]
