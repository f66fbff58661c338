"""PostgreSQL restarted under load: while it is down every request is answered with a
503 and `Retry-After` (never a 500, never a hang: the client gives up after
`REQUEST_TIMEOUT_SECONDS`), `/readyz` says 503, then 200 once it is back; the connection
pool recovers by itself, without the application being made again; and nothing is half
written: every write answered 2xx is stored once, every write answered 503 left no
row, and every counter matches its rows (`dreamlust recount --check`).

When the server closes a connection, asyncpg may fail the next statement on it as out
of step with the server before it notices the close: that is a lost connection too
(seen under this load now and then; the second test makes it happen every time).

The cluster is the test's own (`private_services.py`): the machine's server stays up for
the tests running beside this one. PostgreSQL only: an embedded SQLite file has no
server to lose."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Connection

from tests.fixtures.fault_load import (
    API,
    Load,
    Phase,
    Stored,
    World,
    counter_drift,
    serve_on,
)
from tests.fixtures.private_services import PrivatePostgres

# Answers the load must collect in each phase before the test moves on.
BEFORE_THE_FAULT = 40
DURING_THE_FAULT = 30


async def test_a_restart_of_postgresql_under_load_loses_nothing_and_heals_by_itself(
    postgres_cluster: PrivatePostgres, tmp_path: Path
) -> None:
    async with serve_on(postgres_cluster, tmp_path) as app:
        world = await World.seed(app)
        load = Load(app.client, world, seed=15)
        assert (await app.readiness()).status_code == 200

        async with load.running():
            await load.until(BEFORE_THE_FAULT, lambda answer: answer.ok)
            async with load.outage(app, postgres_cluster, "database", answers=DURING_THE_FAULT):
                pass  # the load alone runs into the restart

        # The same application, pool and runtime as before the restart.
        after = await load.every_kind_once()
        assert [a.status for a in after if not a.ok] == [], [a.body for a in after]

        answers = load.answers
        unanswered = [a for a in answers if a.status is None]
        assert unanswered == [], unanswered[:3]
        wrong = [a for a in answers if not a.ok and not a.unavailable]
        assert wrong == [], wrong[:3]
        while_down = [a for a in answers if a.during(Phase.DOWN)]
        assert all(a.unavailable for a in while_down), [a for a in while_down if a.ok][:3]
        assert any(a.ok for a in answers if a.sent >= Phase.BACK)

        stored = await Stored.read(app.database)
        writes = [a for a in answers + after if a.is_write]
        assert [a for a in writes if a.ok and stored.holds(a) != 1] == []
        assert [a for a in writes if not a.ok and stored.holds(a) != 0] == []
        assert any(not a.ok for a in writes), "no write met the outage"
        assert await counter_drift(app.runtime.settings) == []


async def test_a_connection_the_driver_finds_out_of_step_is_discarded_as_lost(
    postgres_cluster: PrivatePostgres, tmp_path: Path
) -> None:
    async with serve_on(postgres_cluster, tmp_path) as app:
        engine = app.database.engine.sync_engine
        out_of_step = engine.dialect.loaded_dbapi.InternalClientError
        discarded: list[object] = []
        broken: list[object] = []

        def out_of_step_connection(connection: Connection, *_args: object) -> None:
            # The first connection a statement runs on is out of step, as the driver finds
            # it on every statement sent on it, until the connection is discarded.
            driver = connection.connection.driver_connection
            broken[:] = broken or [driver]
            if driver is broken[0]:
                raise out_of_step("cannot switch to state 12; another operation (2) is in progress")

        event.listen(engine, "before_cursor_execute", out_of_step_connection)
        event.listen(engine.pool, "invalidate", lambda *args: discarded.append(args))
        try:
            # Through the request's session: the statement fails, the pool is discarded.
            refused = await app.client.get(f"{API}/categories")
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "1"
            assert discarded, "the connection was put back in the pool"

            # A card read on a connection borrowed for it (`kit/compiled_once.py`): the
            # connection is discarded, and the read runs again on another one.
            broken.clear()
            discarded.clear()
            listed = await app.client.get(f"{API}/content")
            assert listed.status_code == 200, listed.text
            assert discarded, "the borrowed connection was put back in the pool"
        finally:
            event.remove(engine, "before_cursor_execute", out_of_step_connection)

        assert (await app.client.get(f"{API}/categories")).status_code == 200
