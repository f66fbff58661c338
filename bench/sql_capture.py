"""Print the SQL dreamlust sends to PostgreSQL for some GET requests, as JSON.

    DATABASE_URL=postgresql://… python bench/sql_capture.py /api/v1/content?sort=latest …
    … python bench/sql_capture.py --header "Authorization: Bearer …" /api/v1/users/me/feed

Runs the application in this process (no server), listens to every statement the engine
executes, and prints `{path: [statement, …]}` (BEGIN and COMMIT are not statements the
engine sees). bench/run.py compares this with what bench/baseline_app.py sends, so the
baseline cannot silently drift from dreamlust's queries.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import httpx
from sqlalchemy import event

from dreamlust.app import create_app
from dreamlust.config import get_settings


async def capture(paths: list[str], headers: dict[str, str]) -> dict[str, list[str]]:
    app = create_app(get_settings())
    statements: list[str] = []
    captured: dict[str, list[str]] = {}
    async with app.router.lifespan_context(app):
        engine = app.state.runtime.database.engine.sync_engine

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", record)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for path in paths:
                statements.clear()
                response = await client.get(path, headers=headers)
                response.raise_for_status()
                captured[path] = list(statements)
    return captured


def _arguments(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """The paths, and the headers given as `--header "Name: value"` (sent with each)."""
    paths: list[str] = []
    headers: dict[str, str] = {}
    arguments = iter(argv)
    for argument in arguments:
        if argument == "--header":
            name, value = next(arguments).split(":", 1)
            headers[name.strip()] = value.strip()
        else:
            paths.append(argument)
    return paths, headers


if __name__ == "__main__":
    print(json.dumps(asyncio.run(capture(*_arguments(sys.argv[1:])))))
