"""Side effects queued in a request run after its transaction commits, and never otherwise."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from dreamlust.config import API_PREFIX
from dreamlust.dependencies import DbSession
from dreamlust.errors import Conflict, install_error_handlers
from dreamlust.kit.after_commit import after_commit
from dreamlust.models import Tag
from dreamlust.request_session import api_router
from dreamlust.runtime import Runtime
from tests.fixtures.serving import listening


@pytest.fixture
async def effects(runtime: Runtime) -> AsyncIterator[tuple[httpx.AsyncClient, list[str]]]:
    app = FastAPI()
    install_error_handlers(app)
    app.state.runtime = runtime
    sent: list[str] = []

    async def send(name: str) -> None:
        sent.append(name)

    router = api_router()

    @router.post("/tags/{name}")
    async def create(name: str, session: DbSession) -> dict[str, str]:
        session.add(Tag(name=name, slug=name))
        after_commit(session, lambda: send(name))
        if name == "refused":
            raise Conflict("no")
        return {"name": name}

    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        yield client, sent


async def test_jobs_run_after_a_commit(effects: tuple[httpx.AsyncClient, list[str]]) -> None:
    client, sent = effects
    assert (await client.post(f"{API_PREFIX}/tags/first")).status_code == 200
    assert sent == ["first"]


async def test_jobs_of_a_failed_request_never_run(
    effects: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, sent = effects
    assert (await client.post(f"{API_PREFIX}/tags/refused")).status_code == 409
    assert sent == []


async def test_jobs_do_not_run_when_the_commit_itself_fails(
    effects: tuple[httpx.AsyncClient, list[str]],
) -> None:
    client, sent = effects
    await client.post(f"{API_PREFIX}/tags/twice")
    sent.clear()
    # The unique name fails at flush or commit.
    duplicate = await client.post(f"{API_PREFIX}/tags/twice")
    assert duplicate.status_code == 409
    assert sent == []


async def test_jobs_the_response_waits_for_run_before_it_is_sent(runtime: Runtime) -> None:
    app = FastAPI()
    app.state.runtime = runtime
    sent: list[str] = []
    release = asyncio.Event()

    async def drop_cached_answers() -> None:
        sent.append("before the response")

    async def send_mail() -> None:
        await release.wait()
        sent.append("after the response")

    router = api_router()

    @router.post("/tags/{name}")
    async def create(name: str, session: DbSession) -> dict[str, str]:
        session.add(Tag(name=name, slug=name))
        after_commit(session, send_mail)
        after_commit(session, drop_cached_answers, before_response=True)
        return {"name": name}

    app.include_router(router)
    async with listening(app) as base_url, httpx.AsyncClient(base_url=base_url) as client:
        assert (await client.post(f"{API_PREFIX}/tags/urgent")).status_code == 200
        assert sent == ["before the response"]
        release.set()
        for _ in range(100):
            if len(sent) == 2:
                break
            await asyncio.sleep(0.01)
    assert sent == ["before the response", "after the response"]
