"""Database sessions for the admin pages, from the application's own database."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from dreamlust.runtime import Runtime


class ApplicationSessions(async_sessionmaker[AsyncSession]):
    """sqladmin's session factory: read sessions of the running application's database.

    The admin site is mounted when the application is built, but the database is opened
    at start-up (`Runtime.start`), so the runtime is looked up each time a page asks for
    a session: the pages share the application's connection pool instead of a second one.
    """

    def __init__(self, app: Starlette) -> None:
        super().__init__(class_=AsyncSession)
        self._app = app

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self._app.state.runtime
        return runtime

    def __call__(self, **_options: Any) -> AsyncSession:
        return self.runtime.database.session(write=False)
