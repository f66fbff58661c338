"""`dreamlust serve` on a fresh database: migrates, loads demo data and answers."""

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from dreamlust.db import Database
from dreamlust.models import Content, User
from tests.conftest import make_settings
from tests.fixtures.databases import empty_database

_STARTUP_SECONDS = 90


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def served_database(backend: str, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """A fresh database and the base URL of `dreamlust serve --seed-if-empty` running on it."""
    async with empty_database(backend, tmp_path) as database_url:
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DREAMLUST_SECRET_KEY_FILE": str(tmp_path / "secret_key"),
        }
        env.pop("REDIS_URL", None)
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "dreamlust", "serve", "--port", str(port), "--seed-if-empty"),
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            yield database_url, f"http://127.0.0.1:{port}"
        finally:
            if process.returncode is None:
                process.terminate()
            output, _ = await process.communicate()
            if process.returncode not in (0, -15):
                print(output.decode())  # shown by pytest when the test fails


async def _wait_until_healthy(client: httpx.AsyncClient) -> httpx.Response:
    for _ in range(_STARTUP_SECONDS * 5):
        try:
            return await client.get("/healthz")
        except httpx.TransportError:
            await asyncio.sleep(0.2)
    pytest.fail("dreamlust serve did not answer in time")


async def test_serve_on_a_fresh_database_migrates_seeds_and_answers(
    served_database: tuple[str, str],
) -> None:
    database_url, base_url = served_database
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        health = await _wait_until_healthy(client)
        assert health.status_code == 200
        assert (await client.get("/readyz")).status_code == 200

    database = Database(make_settings(database_url))
    try:
        async with database.session() as session:
            users = await session.scalar(select(func.count()).select_from(User))
            content = await session.scalar(select(func.count()).select_from(Content))
    finally:
        await database.dispose()
    assert users
    assert content
