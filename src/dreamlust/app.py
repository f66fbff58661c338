"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from dreamlust import __version__, health
from dreamlust.admin_site import mount_admin_site
from dreamlust.auth import router as auth_router
from dreamlust.billing import router as billing_router
from dreamlust.comments import router as comments_router
from dreamlust.config import Settings, get_settings
from dreamlust.content import router as content_router
from dreamlust.creators import router as creators_router
from dreamlust.engagement import router as engagement_router
from dreamlust.errors import install_error_handlers
from dreamlust.kit.body_limit import BodyLimit
from dreamlust.kit.cors import ProblemCORS
from dreamlust.kit.gc_tuning import tune_for_serving
from dreamlust.kit.security_headers import SecurityHeaders
from dreamlust.media import serving_router as media_serving_router
from dreamlust.media import tus, upload_router
from dreamlust.moderation import router as moderation_router
from dreamlust.notifications import router as notifications_router
from dreamlust.observability import multiprocess
from dreamlust.observability import router as metrics_router
from dreamlust.observability.logs import configure_logging
from dreamlust.observability.middleware import RequestObserver
from dreamlust.openapi_document import install_openapi_document
from dreamlust.playlists import router as playlists_router
from dreamlust.runtime import Runtime
from dreamlust.search import router as search_router
from dreamlust.taxonomy import router as taxonomy_router
from dreamlust.users import admin_router as users_admin_router
from dreamlust.users import router as users_router
from dreamlust.views import router as views_router
from dreamlust.write_limits import limit_writes

# The routers of the domains, their paths under `/api/v1`. A request is matched against
# the routes in order, so the most requested come first (reads of content, then recording
# a view and liking, the most frequent writes). Their routes are the application's own,
# not included routers: FastAPI matches a request against an included router's routes
# through a level of routing of its own, which costs every request about 45 µs of CPU.
DOMAIN_ROUTERS = (
    content_router.router,
    search_router.router,
    media_serving_router.router,
    views_router.recording_router,
    views_router.router,
    engagement_router.liking_router,
    engagement_router.router,
    auth_router.router,
    users_router.router,
    users_admin_router.router,
    taxonomy_router.router,
    creators_router.router,
    comments_router.router,
    playlists_router.router,
    billing_router.router,
    notifications_router.router,
    moderation_router.router,
    upload_router.router,
    upload_router.assets_router,
)


def create_app(
    settings: Settings | None = None, *, runtime: Runtime | None = None, serving: bool = False
) -> FastAPI:
    """The application; a given `runtime` is used as it is and left open at shutdown.
    `serving`: the process exists to serve it, so the garbage collector is tuned for that
    once it has started (see `kit/gc_tuning.py`)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = runtime or Runtime.start(settings)
        if serving:
            tune_for_serving()
        try:
            yield
        finally:
            if runtime is None:
                await app.state.runtime.close()
            multiprocess.process_stopping()

    app = FastAPI(
        title="dreamlust",
        version=__version__,
        summary="Backend of a creator content platform.",
        lifespan=lifespan,
        # No OpenTelemetry here: FastAPI would otherwise look for a tracer provider on
        # every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        routes=[route for router in DOMAIN_ROUTERS for route in router.routes],
    )
    install_error_handlers(app)
    install_openapi_document(app)
    app.add_middleware(
        BodyLimit,
        limit=settings.max_request_body_bytes,
        exempt=[route.path for route in upload_router.router.routes if isinstance(route, APIRoute)],
    )
    if settings.cors_origins:
        app.add_middleware(
            ProblemCORS,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=[
                "ETag",
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
                "X-Request-ID",
                "Content-Range",
                "Accept-Ranges",
                *tus.EXPOSED_HEADERS,
            ],
        )
    app.add_middleware(RequestObserver, access_log=settings.access_log)
    app.add_middleware(SecurityHeaders, https=settings.public_url.startswith("https://"))
    app.include_router(health.router)
    app.include_router(metrics_router.router)
    limit_writes(DOMAIN_ROUTERS)
    if settings.admin_site_enabled:
        mount_admin_site(app, settings)
    return app


def create_serving_app() -> FastAPI:
    """The application as `dreamlust serve` runs it in each worker process."""
    settings = get_settings()
    configure_logging(settings)
    return create_app(settings, serving=True)
