"""What recording a view needs, read by the route itself."""

from __future__ import annotations

from typing import NamedTuple

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.auth.dependencies import signed_in_user
from dreamlust.config import Settings
from dreamlust.content.visibility import Viewer
from dreamlust.kit.client_address import client_address
from dreamlust.kit.clock import utcnow
from dreamlust.kit.keyed_locks import KeyedLocks
from dreamlust.request_session import get_session
from dreamlust.runtime import runtime_of
from dreamlust.views import service
from dreamlust.views.buffer import ViewBuffer
from dreamlust.views.identity import Watcher, identify


class Recording(NamedTuple):
    """The request's session, the settings, where views go (the Redis buffer, or the
    process's turns per item when they go straight to the database), the viewer and the
    watcher behind them. Read by the route rather than through dependencies: recording a
    view is the most frequent write, and each dependency node costs FastAPI work on every
    request (see bench/README.md)."""

    session: AsyncSession
    settings: Settings
    to: ViewBuffer | KeyedLocks
    viewer: Viewer
    watcher: Watcher


async def recording_of(request: Request) -> Recording:
    runtime = runtime_of(request)
    settings = runtime.settings
    session = await get_session(request)
    user = await signed_in_user(request, session)
    today = utcnow().date()
    address = client_address(request, settings.trusted_proxies)
    watcher = identify(
        settings.signing_key(), user, address, request.headers.get("user-agent"), today
    )
    buffer = service.buffer_of(runtime)
    to = buffer if buffer is not None else runtime.counter_writes
    return Recording(session, settings, to, Viewer.of(user, today), watcher)
