"""One database session per request, opened and closed around the route's handler.

A request that may write (any method but GET, HEAD and OPTIONS) runs in one transaction:
committed after the handler has built its response and before that response is sent,
rolled back when the handler raises. The transaction begins with the first statement, so
a write that sends none (a view buffered in Redis) pays nothing for it: the begin and
commit of an empty transaction cost such a request about a quarter of its CPU. Side
effects queued with `after_commit` run after the response (those marked
`before_response` just before it), and only when the commit succeeded. A read-only
request gets a session that only reads (in autocommit on PostgreSQL) and is closed once
its response is built. A session that sent no statement holds no connection and is not
closed at all; a read session that was never used is handed to the next read request
(see `Database.end_request_session`).

The route opens the session, not a dependency with `yield`: FastAPI runs every such
dependency through exit stacks and a shielded task per request, which costs more CPU
than the whole of a cached read (see bench/README.md). The `DbSession` dependency then
only hands out the session of the request.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.background import BackgroundTasks

from dreamlust.config import API_PREFIX
from dreamlust.db import Database
from dreamlust.kit.after_commit import Job, run_jobs, take_jobs, take_response_jobs
from dreamlust.kit.direct_call import DirectCallRoute
from dreamlust.runtime import runtime_of

_SCOPE_KEY = "dreamlust.session"
_READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


async def get_session(request: Request) -> AsyncSession:
    """The session of this request (see `SessionRoute`)."""
    try:
        session: AsyncSession = request.scope[_SCOPE_KEY]
    except KeyError:
        raise RuntimeError(
            f"{request.url.path} has no database session: its router must be made by api_router()"
        ) from None
    return session


class SessionRoute(DirectCallRoute):
    """A route that runs its handler in the request's database session. (A session that
    is never used opens no connection.) An endpoint that takes only the request, path
    parameters and a query model is called directly (`kit/direct_call.py`)."""

    # On PostgreSQL, whether a write runs in autocommit (see `OneStatementWriteRoute`).
    autocommit_writes = False

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def in_session(request: Request) -> Response:
            database = runtime_of(request).database
            if request.method in _READ_ONLY_METHODS:
                return await _in_read_session(database, request, handler)
            in_transaction = database.is_sqlite or not self.autocommit_writes
            session = request.scope[_SCOPE_KEY] = database.request_session(write=in_transaction)
            try:
                response = await handler(request)
                if session.in_transaction():  # one that sent no SQL has nothing to commit
                    await session.commit()
                first = take_response_jobs(session)
                jobs = take_jobs(session)  # run after the response, once committed
            finally:
                await database.end_request_session(session)
            await run_jobs(first)
            _run_after_response(response, jobs)
            return response

        return in_session


class OneStatementWriteRoute(SessionRoute):
    """A write route whose writes are each a single statement on PostgreSQL: there its
    session runs in autocommit, each statement committed as it ends. That spares the
    BEGIN and COMMIT round trips, and the rows a statement locks (a hot item's counters)
    are let go as soon as it has run instead of a round trip later. On SQLite it runs in
    a write transaction like any other write."""

    autocommit_writes = True


class ReadSessionRoute(APIRoute):
    """A route whose request session only reads (who is calling, what they act on)
    and whose handler writes in short transactions of its own (`Database.transaction`):
    for requests whose bodies stream in for minutes, during which no transaction, and
    on SQLite no write lock, may be held."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def in_session(request: Request) -> Response:
            return await _in_read_session(runtime_of(request).database, request, handler)

        return in_session


async def _in_read_session(database: Database, request: Request, handler: Handler) -> Response:
    """`handler`'s response to `request`, run in a read session of the request's own."""
    session = request.scope[_SCOPE_KEY] = database.request_session(write=False)
    try:
        return await handler(request)
    finally:
        await database.end_request_session(session)


def api_router(
    *, prefix: str = "", route_class: type[SessionRoute] = SessionRoute, **options: Any
) -> APIRouter:
    """An `APIRouter` of the API (its paths under `/api/v1`) whose routes run in the
    request's database session."""
    return APIRouter(route_class=route_class, prefix=API_PREFIX + prefix, **options)


def _run_after_response(response: Response, jobs: list[Job]) -> None:
    if not jobs:
        return
    tasks = BackgroundTasks()
    if response.background is not None:
        tasks.add_task(response.background)
    tasks.add_task(run_jobs, jobs)
    response.background = tasks
