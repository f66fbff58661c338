"""The worker's scheduler: exclusive jobs run in one worker at a time, every run is
counted and served as metrics, and SIGTERM stops the worker once its running job is done."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from dreamlust.config import Settings
from dreamlust.jobs import periodic
from dreamlust.jobs.exclusive import exclusive
from dreamlust.runtime import Runtime
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.serving import free_port


def runs(job: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value("dreamlust_job_runs_total", {"job": job, "outcome": outcome})
    return value or 0.0


@pytest.mark.postgresql_only
async def test_an_exclusive_job_runs_in_one_worker_at_a_time(
    settings: Settings, runtime: Runtime
) -> None:
    inside, release = asyncio.Event(), asyncio.Event()
    entered: list[str] = []

    async def hold(job_runtime: Runtime) -> None:
        entered.append(job_runtime.settings.database_url)
        inside.set()
        await release.wait()

    job = periodic.Job("hold-the-lock", 60.0, hold, exclusive=True)
    async with own_runtime(settings) as other_worker:
        first = asyncio.create_task(periodic.run_job(job, runtime))
        await inside.wait()
        assert await periodic.run_job(job, other_worker) is False
        release.set()
        assert await first is True
        assert len(entered) == 1
        assert await periodic.run_job(job, other_worker) is True
    assert len(entered) == 2


@pytest.mark.postgresql_only
async def test_the_lock_is_released_when_the_job_fails(
    settings: Settings, runtime: Runtime
) -> None:
    async def fail(_runtime: Runtime) -> None:
        raise RuntimeError("the job failed")

    await periodic.run_logged(periodic.Job("fails", 60.0, fail, exclusive=True), runtime)

    # Another process's connection: advisory locks are re-entrant within one session.
    async with (
        own_runtime(settings) as other_worker,
        exclusive(other_worker.database, "fails") as acquired,
    ):
        assert acquired


async def test_each_run_is_counted_by_outcome(runtime: Runtime) -> None:
    async def fail(_runtime: Runtime) -> None:
        raise RuntimeError("broken")

    async def succeed(_runtime: Runtime) -> None:
        return None

    failed_before, done_before = runs("breaks", "failed"), runs("works", "done")
    await periodic.run_logged(periodic.Job("breaks", 60.0, fail), runtime)
    await periodic.run_logged(periodic.Job("works", 60.0, succeed), runtime)

    assert runs("breaks", "failed") == failed_before + 1
    assert runs("works", "done") == done_before + 1


async def test_the_worker_serves_its_job_metrics_and_stops_on_sigterm(
    settings: Settings, tmp_path: Path
) -> None:
    metrics_port = free_port()
    environment = {
        **{name: value for name, value in os.environ.items() if name != "REDIS_URL"},
        "DATABASE_URL": settings.database_url,
        "DREAMLUST_SECRET_KEY_FILE": str(tmp_path / "secret_key"),
        "DREAMLUST_MEDIA_DIR": str(tmp_path / "media"),
        "DREAMLUST_UPLOAD_DIR": str(tmp_path / "uploads"),
        "DREAMLUST_WORKER_METRICS_PORT": str(metrics_port),
    }
    worker = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "dreamlust", "worker"),
        cwd=tmp_path,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert worker.stdout is not None
    output = b""
    async with asyncio.timeout(60):
        while b"worker started" not in output:
            line = await worker.stdout.readline()
            assert line, f"the worker ended before it started:\n{output.decode()}"
            output += line

    scraped = await _scrape_until(f"http://127.0.0.1:{metrics_port}/metrics", _RELEASED)
    assert "dreamlust_job_duration_seconds_count" in scraped

    worker.send_signal(signal.SIGTERM)
    async with asyncio.timeout(60):
        rest, _ = await worker.communicate()
    output += rest

    assert worker.returncode == 0, output.decode()
    assert b"worker stopped" in output
    assert b"Traceback" not in output


_RELEASED = 'dreamlust_job_runs_total{job="release-scheduled",outcome="done"} 1.0'


async def _scrape_until(url: str, expected: str) -> str:
    """The worker's metrics once they show `expected` (its first round of jobs done)."""
    async with httpx.AsyncClient(timeout=5) as client, asyncio.timeout(60):
        while True:
            try:
                text = (await client.get(url)).text
            except httpx.TransportError:
                text = ""
            if expected in text:
                return text
            await asyncio.sleep(0.1)
