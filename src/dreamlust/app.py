"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from dreamlust import __version__, health
from dreamlust.config import Settings, get_settings
from dreamlust.errors import install_error_handlers
from dreamlust.kit.request_context import RequestIdMiddleware
from dreamlust.runtime import Runtime

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """Every `/api/v1` route; each domain adds its own router here."""
    return APIRouter(prefix=API_PREFIX)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime.start(settings)
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="dreamlust",
        version=__version__,
        summary="Backend of a creator content platform.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(health.router)
    app.include_router(api_router())
    return app
