"""The worker's jobs and the loop that runs each at its own interval.

Every job is safe to run in several workers at once: each is one transaction whose
statements are atomic (a scheduled item is published by exactly one of them), and a
failed run is logged and retried at the next interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from dreamlust.config import Settings
from dreamlust.content import service as content
from dreamlust.content import trending
from dreamlust.db import Database
from dreamlust.kit.clock import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: float
    run: Callable[[Database, Settings], Awaitable[None]]


async def release_scheduled_content(database: Database, settings: Settings) -> None:
    async with database.transaction() as session:
        released = await content.release_scheduled(session, settings, utcnow())
    if released:
        logger.info("released %d scheduled content item(s)", released)


async def refresh_trending(database: Database, _settings: Settings) -> None:
    async with database.transaction() as session:
        await trending.refresh_all(session, utcnow())


def jobs(settings: Settings) -> list[Job]:
    return [
        Job("release-scheduled", settings.worker_schedule_seconds, release_scheduled_content),
        Job("refresh-trending", settings.trending_refresh_seconds, refresh_trending),
    ]


async def run_once(database: Database, settings: Settings) -> None:
    """Run every job once, in order (for cron, or to catch up by hand)."""
    for job in jobs(settings):
        await job.run(database, settings)


async def run_forever(database: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Run each job at its interval until `stop` is set."""
    next_run = {job.name: 0.0 for job in jobs(settings)}
    while not stop.is_set():
        for job in jobs(settings):
            if time.monotonic() >= next_run[job.name]:
                await _run_logged(job, database, settings)
                next_run[job.name] = time.monotonic() + job.interval_seconds
        wake = min(next_run.values()) - time.monotonic()
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(wake, 0.05))
        except TimeoutError:
            continue


async def _run_logged(job: Job, database: Database, settings: Settings) -> None:
    started = time.perf_counter()
    try:
        await job.run(database, settings)
    except Exception:  # one failed run must not stop the worker; it is retried next time
        logger.exception("job %s failed", job.name)
        return
    logger.debug("job %s took %.3f s", job.name, time.perf_counter() - started)
