"""The private servers the fault tests stop and start (tests/fixtures/private_services.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.private_services import (
    PrivatePostgres,
    PrivateRedis,
    private_postgres,
    private_redis,
)


@pytest.fixture
def postgres_cluster() -> Iterator[PrivatePostgres]:
    with private_postgres() as cluster:
        yield cluster


@pytest.fixture
def redis_server(request: pytest.FixtureRequest) -> Iterator[PrivateRedis]:
    """Without persistence, or with it when the test's parameter is True."""
    with private_redis(persistent=getattr(request, "param", False)) as server:
        yield server
