"""The view buffer of a request and the watcher behind it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from dreamlust.content.dependencies import ViewerDep
from dreamlust.dependencies import ClientAddress, RuntimeDep, SettingsDep
from dreamlust.kit.clock import utcnow
from dreamlust.views import service
from dreamlust.views.buffer import ViewBuffer
from dreamlust.views.identity import Watcher, identify


async def get_view_buffer(runtime: RuntimeDep) -> ViewBuffer | None:
    return service.buffer_of(runtime)


ViewBufferDep = Annotated[ViewBuffer | None, Depends(get_view_buffer)]


async def get_watcher(
    viewer: ViewerDep,
    address: ClientAddress,
    settings: SettingsDep,
    user_agent: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Watcher:
    return identify(settings.signing_key(), viewer.user, address, user_agent, utcnow().date())


WatcherDep = Annotated[Watcher, Depends(get_watcher)]
