"""The API keeps the contract its OpenAPI document states, under Schemathesis.

`dreamlust serve --seed-if-empty` runs on a fresh database of each backend; Schemathesis
(`st run`, the tool as its users run it) generates requests from the served document,
valid ones and deliberately invalid ones, signed in as a user, a creator and an admin
of the demo data in turn, and checks every answer: no server error, every status and
media type documented, every body and header as its schema says, invalid requests
refused, wrong methods answered 405 with the path's methods, and more (`--checks all`).

One check is left out: `positive_data_acceptance`, "a request the schema allows is
accepted". Some rules are beyond what a schema can state: a cursor or a link token this
API issued, a category that exists, a report that may not go back to PENDING. Their
refusals (400, 404, 409, 422) are documented; Schemathesis cannot know which values
would pass them.

The budget (`DREAMLUST_FUZZ_EXAMPLES` per operation, `DREAMLUST_FUZZ_PHASES`) keeps the
suite's run short; `make fuzz` runs the same test with a long one.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from dreamlust.db import Database
from dreamlust.models import Creator, User
from dreamlust.models.enums import CreatorStatus, UserRole, UserStatus
from dreamlust.seeding.catalog import ADMIN_USERNAME, DEMO_PASSWORD
from tests.conftest import make_settings
from tests.fixtures.databases import empty_database
from tests.fixtures.serving import serve_process

SCHEMATHESIS = Path(sys.executable).parent / "st"
EXAMPLES = int(os.environ.get("DREAMLUST_FUZZ_EXAMPLES", "3"))
PHASES = os.environ.get("DREAMLUST_FUZZ_PHASES", "fuzzing")
RUN_SECONDS = 1800
# An event stream answers for as long as the client listens: each request would last
# until the request timeout. tests/notifications/ holds it to its contract.
STREAM = "/api/v1/notifications/stream"
# Fuzzing writes far faster than any person: the write limits are lifted for the run.
SERVE_ENV = {
    "DREAMLUST_RATE_LIMIT_WRITE_PER_ACCOUNT": "1000000/minute",
    "DREAMLUST_RATE_LIMIT_WRITE_PER_ADDRESS": "1000000/minute",
}


async def _demo_logins(database_url: str) -> dict[str, str]:
    """The login of one demo account per role: the admin, an approved creator, a user."""
    database = Database(make_settings(database_url))
    try:
        async with database.session(write=False) as session:
            creator = await session.scalar(
                select(User.username)
                .join(Creator, Creator.user_id == User.id)
                .where(User.status == UserStatus.ACTIVE, Creator.status == CreatorStatus.APPROVED)
                .order_by(User.username)
                .limit(1)
            )
            user = await session.scalar(
                select(User.username)
                .where(
                    User.role == UserRole.USER,
                    User.status == UserStatus.ACTIVE,
                    User.email_verified.is_(True),
                    User.is_creator.is_(False),
                )
                .order_by(User.username)
                .limit(1)
            )
    finally:
        await database.dispose()
    assert creator is not None
    assert user is not None
    return {"user": user, "creator": creator, "admin": ADMIN_USERNAME}


async def _access_token(base_url: str, login: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        answer = await client.post(
            "/api/v1/auth/login", json={"login": login, "password": DEMO_PASSWORD}
        )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


async def _schemathesis(base_url: str, token: str, report: Path) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "run",
        f"{base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--exclude-path",
        STREAM,
        "--phases",
        PHASES,
        "--max-examples",
        str(EXAMPLES),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--seed",
        "20261205",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        cwd=report.parent,  # where it keeps its state between runs
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), RUN_SECONDS)
    print(output.decode())  # shown by pytest when the test fails
    result: dict[str, Any] = json.loads(await asyncio.to_thread(report.read_bytes))
    return result


async def test_every_role_finds_the_api_true_to_its_document(backend: str, tmp_path: Path) -> None:
    async with (
        empty_database(backend, tmp_path) as database_url,
        serve_process(database_url, tmp_path, SERVE_ENV, "--seed-if-empty") as base_url,
    ):
        logins = await _demo_logins(database_url)
        for role, login in logins.items():
            token = await _access_token(base_url, login)
            run = await _schemathesis(base_url, token, tmp_path / f"{role}.json")
            operations, cases = run["operations"], run["test_cases"]
            print(
                f"{backend} as {role}: {operations['tested']} operations, "
                f"{cases['generated']} requests, {cases['unique_failures']} failures"
            )
            assert run["complete"], role
            assert operations["tested"] == operations["total"] - 1, role  # all but STREAM
            assert operations["errored"] == 0, run["errors"]
            assert cases["generated"] >= operations["total"], role
            assert (cases["with_failures"], run["failures"], run["errors"]) == (0, [], []), role
