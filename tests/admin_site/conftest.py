"""Fixtures of the admin page's tests: a browser-like HTTP client of the application."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.runtime import Runtime
from tests.fixtures.factories import PASSWORD
from tests.fixtures.serving import served

ADMIN = "/admin"
_CSRF_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
async def page(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A client that keeps cookies and does not follow redirects, as a test reads them."""
    async with served(create_app(settings, runtime=runtime)) as client:
        yield client


async def sign_in(
    client: httpx.AsyncClient, login: str, password: str = PASSWORD
) -> httpx.Response:
    return await client.post(f"{ADMIN}/login", data={"username": login, "password": password})


def csrf_token_of(page: httpx.Response) -> str:
    match = _CSRF_TOKEN.search(page.text)
    assert match, page.text
    return match.group(1)
