"""Slow clients hold a socket of the server, never a database connection or a lock.

A write's body is read whole before the route loads anything (its transaction asks the
pool for a connection, and on SQLite takes the write lock with `BEGIN IMMEDIATE`, only
at its first statement), so a client that trickles its body in, or stops half-way and
goes away, keeps nobody else waiting and leaves nothing behind.

Headers trickled in slowly: uvicorn calls the application only once a request's headers
are complete, and bounds neither how long they take nor how long a body in progress
takes (its keep-alive timeout only closes connections idle between requests). A slow
client therefore costs the process one socket and no work of the application, and the
test below shows it; bounding how long a client may take, and so how many sockets slow
clients can keep open, is the reverse proxy's work: it buffers each request whole
before passing it on and times out slow clients (docs/DEPLOY.md, "Reverse proxy").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import bearer, make_account
from tests.fixtures.serving import listening

SLOW_CLIENT = "x-slow-client"
PAUSE_SECONDS = 0.2
WAIT_SECONDS = 10  # a bound on waiting for the server, so a failure cannot hang the run


@dataclass
class SlowRequest:
    """What the application has seen of the request marked `SLOW_CLIENT`."""

    called: asyncio.Event = field(default_factory=asyncio.Event)
    reading: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


def _observing(app: ASGIApp, slow: SlowRequest) -> ASGIApp:
    """`app`, noting when the slow request reaches it, first waits for its body (the
    route's handler reads it) and is done with."""

    async def observed(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (SLOW_CLIENT.encode(), b"yes") not in scope["headers"]:
            await app(scope, receive, send)
            return
        slow.called.set()

        async def noted_receive() -> Message:
            slow.reading.set()
            return await receive()

        try:
            await app(scope, noted_receive, send)
        finally:
            slow.finished.set()

    return observed


@dataclass
class Server:
    client: httpx.AsyncClient
    slow: SlowRequest
    host: str
    port: int
    token: str


@pytest.fixture
async def server(
    settings: Settings, runtime: Runtime, session: AsyncSession
) -> AsyncIterator[Server]:
    """The application served by uvicorn, a signed-in user's token, and what the app
    sees of the slow request."""
    token = runtime.access_tokens.issue(await make_account(session))
    app = create_app(settings, runtime=runtime)
    slow = SlowRequest()
    app.add_middleware(_observing, slow=slow)
    async with (
        listening(app) as base_url,
        httpx.AsyncClient(base_url=base_url, headers=bearer(token)) as client,
    ):
        url = httpx.URL(base_url)
        assert url.port is not None
        yield Server(client, slow, url.host, url.port, token)


async def _start_playlist_creation(
    server: Server, body: bytes, sent: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A playlist creation with `body`, marked as the slow request: its head and the first
    `sent` bytes of its body are sent, and the application has started reading it."""
    head = (
        "POST /api/v1/playlists HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\n"
        f"Authorization: Bearer {server.token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"{SLOW_CLIENT}: yes\r\n"
        "Connection: close\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(head.encode() + body[:sent])
    await writer.drain()
    await asyncio.wait_for(server.slow.reading.wait(), WAIT_SECONDS)
    return reader, writer


async def _status(reader: asyncio.StreamReader) -> int:
    status_line = await asyncio.wait_for(reader.readline(), WAIT_SECONDS)
    return int(status_line.split()[1])


async def _served_meanwhile(server: Server, step: int) -> None:
    """Another client's read and write, answered while the slow request is open."""
    read = await server.client.get("/api/v1/content")
    assert read.status_code == 200, read.text
    write = await server.client.post("/api/v1/playlists", json={"name": f"Meanwhile {step}"})
    assert write.status_code == 201, write.text


async def _playlist_names(server: Server) -> list[str]:
    mine = await server.client.get("/api/v1/playlists", params={"limit": 100})
    assert mine.status_code == 200, mine.text
    return sorted(item["name"] for item in mine.json()["items"])


def _connections_in_use(runtime: Runtime) -> int:
    """The connections the runtime's pool has handed out and not had back."""
    in_use: int = runtime.database.engine.pool.checkedout()  # type: ignore[attr-defined]
    return in_use


async def _transactions_left_open(runtime: Runtime) -> int:
    """Connections to the test's database idle inside a transaction (PostgreSQL)."""
    async with runtime.database.session(write=False) as session:
        count = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'"
            )
        )
    return int(count or 0)


async def test_a_trickled_body_holds_no_connection_while_others_are_served(
    server: Server, runtime: Runtime
) -> None:
    idle = _connections_in_use(runtime)
    body = orjson.dumps({"name": "Trickled in slowly"})
    reader, writer = await _start_playlist_creation(server, body, 3)

    chunks = [body[start : start + 3] for start in range(3, len(body), 3)]
    for step, chunk in enumerate(chunks[:-1]):
        await _served_meanwhile(server, step)
        assert _connections_in_use(runtime) == idle
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(PAUSE_SECONDS)
    assert not server.slow.finished.is_set()

    writer.write(chunks[-1])
    await writer.drain()
    assert await _status(reader) == 201
    writer.close()
    await writer.wait_closed()

    names = await _playlist_names(server)
    assert names.count("Trickled in slowly") == 1
    assert len(names) == len(chunks)  # and one of each other client's writes


async def test_a_client_gone_silent_or_away_mid_body_leaves_nothing_behind(
    server: Server, runtime: Runtime
) -> None:
    idle = _connections_in_use(runtime)
    body = orjson.dumps({"name": "Never finished"})
    _reader, writer = await _start_playlist_creation(server, body, len(body) // 2)

    await _served_meanwhile(server, 1)  # on SQLite: no write lock is held
    assert _connections_in_use(runtime) == idle
    if not runtime.database.is_sqlite:
        assert await _transactions_left_open(runtime) == 0

    writer.close()
    await writer.wait_closed()
    await asyncio.wait_for(server.slow.finished.wait(), WAIT_SECONDS)

    await _served_meanwhile(server, 2)
    assert _connections_in_use(runtime) == idle
    assert await _playlist_names(server) == ["Meanwhile 1", "Meanwhile 2"]
    if not runtime.database.is_sqlite:
        assert await _transactions_left_open(runtime) == 0


async def test_headers_trickled_in_reach_the_application_only_once_complete(
    server: Server, runtime: Runtime
) -> None:
    idle = _connections_in_use(runtime)
    head = (
        f"GET /api/v1/content HTTP/1.1\r\nHost: 127.0.0.1\r\n{SLOW_CLIENT}: yes\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection(server.host, server.port)
    chunks = [head[start : start + 8] for start in range(0, len(head), 8)]
    for step, chunk in enumerate(chunks[:-1]):
        writer.write(chunk)
        await writer.drain()
        await asyncio.sleep(PAUSE_SECONDS)
        if step % 4 == 0:
            await _served_meanwhile(server, step)
            assert _connections_in_use(runtime) == idle
    assert not server.slow.called.is_set()

    writer.write(chunks[-1])
    await writer.drain()
    assert await _status(reader) == 200
    assert server.slow.called.is_set()
    writer.close()
    await writer.wait_closed()
