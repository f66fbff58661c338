"""One plain ASGI middleware around every HTTP request: its id, its metrics, its access line.

It runs on every request, hot reads included, so it does as little as it can: no
`Request` object, the metric series of each (method, route, status) looked up once and
kept, and the access line only built when its logger is enabled.
"""

from __future__ import annotations

import logging
from time import perf_counter

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dreamlust.kit.request_context import (
    REQUEST_ID_HEADER,
    RequestContext,
    close_request,
    open_request,
)
from dreamlust.observability.metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS
from dreamlust.observability.routes import RouteTemplates

access_logger = logging.getLogger("dreamlust.access")

# Any other method (the HTTP parser admits a few more) shares one label value.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_OTHER_METHOD = "OTHER"


class RequestObserver:
    """Gives each request an id (echoed in `X-Request-ID`), counts and times it per route
    template, method and status, and writes its access line."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log
        self._templates = RouteTemplates()
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                self._templates.learn(scope["app"])  # at start-up, not in a first request
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        if not self._templates.learned:  # an app run without its lifespan
            self._templates.learn(scope["app"])
        entry_root_path: str = scope.get("root_path", "")
        context, token = open_request(scope["headers"])
        request_id_header = (REQUEST_ID_HEADER, context.request_id.encode())
        status = 500  # what the client gets when the app raises before it answers
        observed = False

        def observe() -> None:
            nonlocal observed
            observed = True
            template = self._templates.of(scope, entry_root_path)
            self._observe(scope["method"], template, status, perf_counter() - started, context)

        async def send_observed(message: Message) -> None:
            nonlocal status
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), request_id_header]
            elif (kind == "http.response.body" and not message.get("more_body")) or (
                kind == "http.response.pathsend"
            ):
                # Counted before the last part leaves: a client holding a whole response
                # finds it in the metrics.
                observe()
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        finally:
            if not observed:  # the app raised, or the client went away mid-response
                observe()
        # Left in place when the app raises: the error handler outside this middleware
        # then logs the error with the request's id (the request's task ends there).
        close_request(token)

    def _observe(
        self, method: str, template: str, status: int, seconds: float, context: RequestContext
    ) -> None:
        if method not in _METHODS:
            method = _OTHER_METHOD
        key = (method, template, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (
                HTTP_REQUESTS.labels(method, template, str(status)),
                HTTP_REQUEST_DURATION.labels(method, template),
            )
        series[0].inc()
        series[1].observe(seconds)
        if self.access_log and access_logger.isEnabledFor(logging.INFO):
            _log_access(method, template, status, seconds * 1000, context)


def _log_access(
    method: str, template: str, status: int, milliseconds: float, context: RequestContext
) -> None:
    user = f" user={context.user_id}" if context.user_id else ""
    access_logger.info(
        "%s %s %d %.1f ms%s",
        method,
        template,
        status,
        milliseconds,
        user,
        extra={
            "fields": {
                "method": method,
                "route": template,
                "status": status,
                "duration_ms": round(milliseconds, 3),
            }
        },
    )
