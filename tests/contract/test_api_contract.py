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

The stateful phase chains operations through the document's links (create, then read,
change, delete what was created, and create what belongs to it): the links the document
states, not ones Schemathesis would guess, with valid requests only, so that what a step
creates exists and the next step reaches it (invalid requests are the fuzzing phase's).
Its checks catch a resource that is missing right after it was created, or still there
after it was deleted.

Schemathesis signs in itself (`auth.dynamic`) and signs in again when an answer is 401:
fuzzing `POST /auth/logout` ends the account's access tokens, and every request after it
would otherwise test only the refusal of a dead token.

The budget (`DREAMLUST_FUZZ_EXAMPLES` per operation, `DREAMLUST_FUZZ_PHASES`; the stateful
phase runs five scenarios per example of `DREAMLUST_FUZZ_EXAMPLES`, of at most
`SCENARIO_STEPS` steps) keeps the suite's run short; `make fuzz` runs the same test with a
long one.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

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
PHASES = os.environ.get("DREAMLUST_FUZZ_PHASES", "fuzzing,stateful")
SCENARIOS = 5 * EXAMPLES
SCENARIO_STEPS = 8
RUN_SECONDS = 1800
# An event stream answers for as long as the client listens: each request would last
# until the request timeout. tests/notifications/ holds it to its contract.
STREAM = "/api/v1/notifications/stream"
# Fuzzing writes (and signs in again) far faster than any person: those limits are
# lifted for the run.
SERVE_ENV = {
    "DREAMLUST_RATE_LIMIT_WRITE_PER_ACCOUNT": "1000000/minute",
    "DREAMLUST_RATE_LIMIT_WRITE_PER_ADDRESS": "1000000/minute",
    "DREAMLUST_RATE_LIMIT_LOGIN_PER_ACCOUNT": "1000000/minute",
    "DREAMLUST_RATE_LIMIT_LOGIN_PER_ADDRESS": "1000000/minute",
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


def _configuration(login: str) -> str:
    """Schemathesis's settings (TOML) for a run signed in as `login`."""
    return "\n".join(
        [
            "[auth.dynamic.openapi.HTTPBearer]",
            'path = "/api/v1/auth/login"',
            f"payload = {{ login = {json.dumps(login)}, password = {json.dumps(DEMO_PASSWORD)} }}",
            'extract_selector = "/access_token"',
            "[phases.stateful]",
            f"max-steps = {SCENARIO_STEPS}",
            "[phases.stateful.generation]",
            'mode = "positive"',
            f"max-examples = {SCENARIOS}",
            "[phases.stateful.inference]",
            "algorithms = []",
            "",
        ]
    )


async def _schemathesis(base_url: str, login: str, directory: Path) -> dict[str, Any]:
    """The JSON report of a run signed in as `login`, with `steps`: what the stateful
    phase did (`_stateful_steps`)."""
    await asyncio.to_thread(directory.mkdir)
    configuration = directory / "schemathesis.toml"
    report, events = directory / "report.json", directory / "events.ndjson"
    await asyncio.to_thread(configuration.write_text, _configuration(login))
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS),
        "--config-file",
        str(configuration),
        "run",
        f"{base_url}/openapi.json",
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
        "json,ndjson",
        "--report-json-path",
        str(report),
        "--report-ndjson-path",
        str(events),
        cwd=directory,  # where it keeps its state between runs
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), RUN_SECONDS)
    print(output.decode())  # shown by pytest when the test fails
    result: dict[str, Any] = json.loads(await asyncio.to_thread(report.read_bytes))
    result["steps"] = _stateful_steps(await asyncio.to_thread(events.read_text))
    return result


def _stateful_steps(events: str) -> dict[str, int]:
    """From the run's events: the requests the stateful phase sent, how many of them
    followed a link from the step before, and how many distinct links those were."""
    steps, followed, links = 0, 0, set()
    for line in events.splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if finished is None or finished["phase"] != "stateful":
            continue
        for case in finished["recorder"].get("cases", {}).values():
            steps += 1
            if case.get("is_transition_applied"):
                followed += 1
                links.add(case["transition"]["id"])
    return {"sent": steps, "followed": followed, "links": len(links)}


async def test_every_role_finds_the_api_true_to_its_document(backend: str, tmp_path: Path) -> None:
    async with (
        empty_database(backend, tmp_path) as database_url,
        serve_process(database_url, tmp_path, SERVE_ENV, "--seed-if-empty") as base_url,
    ):
        logins = await _demo_logins(database_url)
        for role, login in logins.items():
            run = await _schemathesis(base_url, login, tmp_path / role)
            operations, cases, steps = run["operations"], run["test_cases"], run["steps"]
            print(
                f"{backend} as {role}: {operations['tested']} operations, "
                f"{cases['generated']} requests, {steps['sent']} stateful steps "
                f"({steps['followed']} through {steps['links']} links), "
                f"{cases['unique_failures']} failures"
            )
            assert run["complete"], role
            assert operations["tested"] == operations["total"] - 1, role  # all but STREAM
            assert operations["errored"] == 0, run["errors"]
            assert cases["generated"] >= operations["total"], role
            assert (cases["with_failures"], run["failures"], run["errors"]) == (0, [], []), role
            assert not run["auth"]["reauth_broke"], role
            if "stateful" in PHASES.split(","):
                assert run["phases"]["stateful"]["status"] == "success", run["phases"]
                assert steps["followed"] > 0, (role, steps)
