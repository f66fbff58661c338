"""The worker's jobs and the loop that runs each at its own interval.

Every job is safe to run in several workers at once: each works in transactions whose
statements are atomic (a scheduled item is published by exactly one of them), takes its
rows with row locks or leases (`SKIP LOCKED`), or is `exclusive`: one run at a time
across the workers, under an advisory lock. A failed run is logged, counted and retried
at the next interval. SIGTERM or SIGINT stops the loop once the running job is done.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from dreamlust.billing import renewals
from dreamlust.billing.ledger import Payments
from dreamlust.billing.repository import IdempotencyRepository
from dreamlust.config import Settings
from dreamlust.content import service as content
from dreamlust.content import trending
from dreamlust.jobs.exclusive import exclusive
from dreamlust.kit.clock import utcnow
from dreamlust.media import gc, processing, uploads
from dreamlust.notifications import service as notifications
from dreamlust.observability.metrics import JOB_DURATION, JOB_RUNS
from dreamlust.purge import service as purge
from dreamlust.runtime import Runtime
from dreamlust.views import service as views

logger = logging.getLogger(__name__)
_HOURLY = 3600.0
# Stored files younger than this, without a row, may belong to an upload in progress.
_GC_MIN_AGE = timedelta(hours=1)


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: float
    run: Callable[[Runtime], Awaitable[None]]
    # One run at a time across every worker (see `exclusive`).
    exclusive: bool = False


async def release_scheduled_content(runtime: Runtime) -> None:
    async with runtime.database.transaction() as session:
        released = await content.release_scheduled(session, runtime.settings, utcnow())
    if released:
        logger.info("released %d scheduled content item(s)", released)


async def flush_views(runtime: Runtime) -> None:
    """Move the views buffered in Redis into the database (nothing to do without Redis)."""
    flushed = await views.flush_buffered(runtime)
    if flushed:
        logger.info("flushed %d buffered view(s)", flushed)


async def forget_view_marks(runtime: Runtime) -> None:
    window = timedelta(minutes=runtime.settings.view_dedup_minutes)
    async with runtime.database.transaction() as session:
        forgotten = await views.forget_marks(session, window, utcnow())
    if forgotten:
        logger.info("forgot %d view mark(s)", forgotten)


async def refresh_trending(runtime: Runtime) -> None:
    async with runtime.database.transaction() as session:
        await trending.refresh_all(session, utcnow())


async def renew_subscriptions(runtime: Runtime) -> None:
    payments = Payments(runtime.settings, runtime.payments)
    handled = await renewals.run(runtime.database, payments, utcnow())
    if handled:
        logger.info("renewed or ended %d subscription(s)", handled)


async def forget_idempotency_keys(runtime: Runtime) -> None:
    """Drop the idempotency records kept past their time."""
    async with runtime.database.transaction() as session:
        forgotten = await IdempotencyRepository(session).expire(utcnow())
    if forgotten:
        logger.info("forgot %d expired idempotency key(s)", forgotten)


async def deliver_notifications(runtime: Runtime) -> None:
    """Fan the pending notification events out to their audiences, batch by batch."""
    made = await notifications.deliver_pending(runtime.database)
    if made:
        logger.info("delivered %d notification(s)", made)


async def tell_likes(runtime: Runtime) -> None:
    window = timedelta(minutes=runtime.settings.like_notification_window_minutes)
    read = await notifications.tell_likes(runtime.database, window, utcnow())
    if read:
        logger.info("told %d like(s)", read)


async def forget_old_notifications(runtime: Runtime) -> None:
    retention = timedelta(days=runtime.settings.notification_retention_days)
    async with runtime.database.transaction() as session:
        forgotten = await notifications.forget_old(session, retention)
    if forgotten:
        logger.info("deleted %d old read notification(s)", forgotten)


async def process_media(runtime: Runtime) -> None:
    """Process the oldest uploaded media file that waits for it (one per run: a long
    video holds this worker's other jobs back only as long as it takes)."""
    await processing.process_media(runtime.storage, runtime.database, runtime.settings)


async def forget_abandoned_uploads(runtime: Runtime) -> None:
    """Delete the uploads left unfinished past their expiry, and stray staged files."""
    forgotten = await uploads.forget_abandoned(uploads.Intake.of(runtime))
    if forgotten:
        logger.info("deleted %d abandoned upload(s)", forgotten)


async def purge_deleted(runtime: Runtime) -> None:
    """Remove for good what was soft-deleted longer ago than the retention."""
    report = await purge.purge(
        runtime.database,
        runtime.storage,
        cutoff=utcnow() - runtime.settings.soft_delete_retention,
        batch_size=runtime.settings.purge_batch_size,
    )
    if report.total:
        logger.info("purged %d deleted row(s): %s", report.total, report.rows)


async def collect_media_garbage(runtime: Runtime) -> None:
    """Delete stored files no asset owns; mark assets whose file is missing FAILED."""
    report = await gc.collect(
        runtime.database, runtime.storage, check_only=False, min_age=_GC_MIN_AGE
    )
    if report.found:
        for line in report.lines(fixed=True):
            logger.warning("media gc: %s", line)


def jobs(settings: Settings) -> list[Job]:
    return [
        Job("release-scheduled", settings.worker_schedule_seconds, release_scheduled_content),
        Job("flush-views", settings.view_flush_seconds, flush_views),
        Job("forget-view-marks", settings.view_dedup_minutes * 60, forget_view_marks),
        Job(
            "refresh-trending",
            settings.trending_refresh_seconds,
            refresh_trending,
            exclusive=True,
        ),
        Job("deliver-notifications", settings.notification_delivery_seconds, deliver_notifications),
        Job("tell-likes", settings.notification_delivery_seconds, tell_likes),
        Job("renew-subscriptions", settings.renewal_seconds, renew_subscriptions),
        Job("process-media", settings.media_processing_seconds, process_media),
        Job("forget-idempotency-keys", _HOURLY, forget_idempotency_keys),
        Job("forget-old-notifications", _HOURLY, forget_old_notifications),
        Job("forget-abandoned-uploads", _HOURLY, forget_abandoned_uploads),
        Job("purge-deleted", settings.purge_seconds, purge_deleted, exclusive=True),
        Job(
            "collect-media-garbage",
            settings.media_gc_seconds,
            collect_media_garbage,
            exclusive=True,
        ),
    ]


async def run_once(runtime: Runtime) -> None:
    """Run every job once, in order (for cron, or to catch up by hand)."""
    for job in jobs(runtime.settings):
        await run_job(job, runtime)


async def run_forever(runtime: Runtime, stop: asyncio.Event) -> None:
    """Run each job at its interval until `stop` is set."""
    next_run = {job.name: 0.0 for job in jobs(runtime.settings)}
    logger.info("worker started: %d jobs", len(next_run))
    while not stop.is_set():
        for job in jobs(runtime.settings):
            if time.monotonic() >= next_run[job.name]:
                await run_logged(job, runtime)
                next_run[job.name] = time.monotonic() + job.interval_seconds
        wake = min(next_run.values()) - time.monotonic()
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(wake, 0.05))
        except TimeoutError:
            continue
    logger.info("worker stopped")


async def run_logged(job: Job, runtime: Runtime) -> None:
    started = time.perf_counter()
    try:
        ran = await run_job(job, runtime)
    except Exception:  # one failed run must not stop the worker; it is retried next time
        logger.exception("job %s failed", job.name)
        JOB_RUNS.labels(job=job.name, outcome="failed").inc()
        return
    took = time.perf_counter() - started
    JOB_RUNS.labels(job=job.name, outcome="done" if ran else "skipped").inc()
    if ran:
        JOB_DURATION.labels(job=job.name).observe(took)
    logger.debug("job %s took %.3f s", job.name, took)


async def run_job(job: Job, runtime: Runtime) -> bool:
    """Run `job` once; False when it is exclusive and another worker is running it."""
    if not job.exclusive:
        await job.run(runtime)
        return True
    async with exclusive(runtime.database, job.name) as acquired:
        if acquired:
            await job.run(runtime)
        return acquired
