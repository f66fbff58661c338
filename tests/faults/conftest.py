"""The private server the fault tests stop and start (tests/fixtures/private_services.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.private_services import (
    PrivatePostgres,
    private_postgres,
)


@pytest.fixture
def postgres_cluster() -> Iterator[PrivatePostgres]:
    with private_postgres() as cluster:
        yield cluster
