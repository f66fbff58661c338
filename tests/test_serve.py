"""`dreamlust serve` on a fresh database: migrates, loads demo data and answers."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from dreamlust.db import Database
from dreamlust.models import Content, User
from tests.conftest import make_settings
from tests.fixtures.databases import empty_database
from tests.fixtures.serving import serve_process


@pytest.fixture
async def served_database(backend: str, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """A fresh database and the base URL of `dreamlust serve --seed-if-empty` running on it."""
    async with (
        empty_database(backend, tmp_path) as database_url,
        serve_process(database_url, tmp_path, {}, "--seed-if-empty") as base_url,
    ):
        yield database_url, base_url


async def test_serve_on_a_fresh_database_migrates_seeds_and_answers(
    served_database: tuple[str, str],
) -> None:
    database_url, base_url = served_database
    async with httpx.AsyncClient(base_url=base_url, timeout=5) as client:
        healthz = await client.get("/healthz")
        assert healthz.status_code == 200
        assert "server" not in healthz.headers, "the server's software is not named"
        assert "date" in healthz.headers
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
