"""The `dreamlust` command."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from typing import Annotated

import typer
import uvicorn

from dreamlust import migrate
from dreamlust.config import Settings, get_settings
from dreamlust.observability.logs import configure_logging
from dreamlust.observability.multiprocess import shared_metrics_directory

app = typer.Typer(no_args_is_help=True, help="dreamlust: creator content platform backend.")
db_app = typer.Typer(no_args_is_help=True, help="Database migrations.")
app.add_typer(db_app, name="db")
media_app = typer.Typer(no_args_is_help=True, help="Media files in the store.")
app.add_typer(media_app, name="media")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    seed_if_empty: Annotated[
        bool, typer.Option("--seed-if-empty", help="Load demo data into an empty database.")
    ] = False,
) -> None:
    """Migrate the database to the latest revision, then serve the API."""
    settings = get_settings()
    configure_logging(settings)
    asyncio.run(migrate.upgrade(settings))
    if seed_if_empty:
        from dreamlust.seeding import seed_if_empty as load_demo_data

        asyncio.run(load_demo_data(settings))
    if workers == 1:
        _serve(host, port, workers)
        return
    with shared_metrics_directory():
        _serve(host, port, workers)


def _serve(host: str, port: int, workers: int) -> None:
    """uvicorn's own access log is off: each worker writes one line per request itself.
    Answers carry no `Server` header: naming the server software and its version helps
    no client, only someone looking for a known flaw in it."""
    uvicorn.run(
        "dreamlust.app:create_serving_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        proxy_headers=False,
        server_header=False,
    )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    asyncio.run(migrate.upgrade(get_settings(), revision))


@db_app.command("downgrade")
def db_downgrade(revision: Annotated[str, typer.Argument(help="Target, e.g. -1 or base.")]) -> None:
    """Revert migrations down to REVISION."""
    asyncio.run(migrate.downgrade(get_settings(), revision))


@db_app.command("current")
def db_current() -> None:
    """Show the revision the database is at."""
    asyncio.run(migrate.show_current(get_settings()))


@app.command()
def seed(
    scale: Annotated[int, typer.Option(min=1, help="Multiplier of the demo data size.")] = 1,
    random_seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 42,
) -> None:
    """Load realistic demo data (deterministic for a given --seed)."""
    from dreamlust.seeding import DatabaseNotEmpty, seed_database

    settings = get_settings()
    asyncio.run(migrate.upgrade(settings))
    try:
        summary = asyncio.run(seed_database(settings, scale=scale, random_seed=random_seed))
    except DatabaseNotEmpty as exc:
        typer.echo(f"Not seeding: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    for table, count in summary.items():
        typer.echo(f"{table:>20}: {count}")


@app.command()
def recount(
    check: Annotated[
        bool, typer.Option("--check", help="Only report drift; exit 1 if there is any.")
    ] = False,
) -> None:
    """Rebuild every denormalized counter from the rows it counts; print the drift."""
    from dreamlust.counters import recount as counters
    from dreamlust.counters.report import drift_lines

    drifts = asyncio.run(counters.run(get_settings(), check_only=check))
    for line in drift_lines(drifts, corrected=not check):
        typer.echo(line)
    if check and any(drift.rows for drift in drifts):
        raise typer.Exit(code=1)


@app.command()
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be removed.")
    ] = False,
) -> None:
    """Hard-delete what was soft-deleted longer ago than the retention, with its
    dependants and media files; the ledger keeps its rows."""
    from dreamlust.purge import service

    settings = get_settings()
    asyncio.run(migrate.upgrade(settings))
    report = asyncio.run(service.run(settings, dry_run=dry_run))
    for line in report.lines():
        typer.echo(line)


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Run every job once and exit.")] = False,
) -> None:
    """Run the periodic jobs: publish scheduled content, flush buffered views, refresh trending."""
    settings = get_settings()
    configure_logging(settings)
    asyncio.run(migrate.upgrade(settings))
    asyncio.run(_work(settings, once=once))


async def _work(settings: Settings, *, once: bool) -> None:
    from dreamlust.jobs import periodic
    from dreamlust.observability.worker_metrics import serve_worker_metrics
    from dreamlust.runtime import Runtime

    runtime = Runtime.start(settings)
    if settings.worker_metrics_port is not None:
        serve_worker_metrics(settings.worker_metrics_address, settings.worker_metrics_port)
    try:
        if once:
            await periodic.run_once(runtime)
            return
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signal_number, stop.set)
        await periodic.run_forever(runtime, stop)
    finally:
        await runtime.close()


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="E-mail address.")],
    username: Annotated[str, typer.Option(help="Username.")],
    password: Annotated[str, typer.Option(help="Password.", prompt=True, hide_input=True)],
) -> None:
    """Create an ADMIN account (or promote the existing account with this e-mail)."""
    from dreamlust.users.admin_account import create_admin as run

    settings = get_settings()
    asyncio.run(migrate.upgrade(settings))
    user = asyncio.run(run(settings, email=email, username=username, password=password))
    typer.echo(f"admin {user.username} <{user.email}> ({user.id})")


@media_app.command("gc")
def media_gc(
    check: Annotated[
        bool, typer.Option("--check", help="Only report; exit 1 if anything is found.")
    ] = False,
    min_age_minutes: Annotated[
        int, typer.Option(min=0, help="Files without a row younger than this are left alone.")
    ] = 60,
) -> None:
    """Delete stored files no asset owns; mark assets whose file is missing FAILED."""
    from dreamlust.media import gc

    report = asyncio.run(
        gc.run(get_settings(), check_only=check, min_age=timedelta(minutes=min_age_minutes))
    )
    for line in report.lines(fixed=not check):
        typer.echo(line)
    if check and report.found:
        raise typer.Exit(code=1)
