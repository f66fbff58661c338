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
from datetime import timedelta

from dreamlust.billing import renewals
from dreamlust.billing.ledger import Payments
from dreamlust.billing.repository import IdempotencyRepository
from dreamlust.config import Settings
from dreamlust.content import service as content
from dreamlust.content import trending
from dreamlust.kit.clock import utcnow
from dreamlust.media import processing, uploads
from dreamlust.notifications import service as notifications
from dreamlust.runtime import Runtime
from dreamlust.views import service as views

logger = logging.getLogger(__name__)
_HOURLY = 3600.0


@dataclass(frozen=True)
class Job:
    name: str
    interval_seconds: float
    run: Callable[[Runtime], Awaitable[None]]


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


def jobs(settings: Settings) -> list[Job]:
    return [
        Job("release-scheduled", settings.worker_schedule_seconds, release_scheduled_content),
        Job("flush-views", settings.view_flush_seconds, flush_views),
        Job("refresh-trending", settings.trending_refresh_seconds, refresh_trending),
        Job("deliver-notifications", settings.notification_delivery_seconds, deliver_notifications),
        Job("tell-likes", settings.notification_delivery_seconds, tell_likes),
        Job("renew-subscriptions", settings.renewal_seconds, renew_subscriptions),
        Job("process-media", settings.media_processing_seconds, process_media),
        Job("forget-idempotency-keys", _HOURLY, forget_idempotency_keys),
        Job("forget-old-notifications", _HOURLY, forget_old_notifications),
        Job("forget-abandoned-uploads", _HOURLY, forget_abandoned_uploads),
    ]


async def run_once(runtime: Runtime) -> None:
    """Run every job once, in order (for cron, or to catch up by hand)."""
    for job in jobs(runtime.settings):
        await job.run(runtime)


async def run_forever(runtime: Runtime, stop: asyncio.Event) -> None:
    """Run each job at its interval until `stop` is set."""
    next_run = {job.name: 0.0 for job in jobs(runtime.settings)}
    while not stop.is_set():
        for job in jobs(runtime.settings):
            if time.monotonic() >= next_run[job.name]:
                await _run_logged(job, runtime)
                next_run[job.name] = time.monotonic() + job.interval_seconds
        wake = min(next_run.values()) - time.monotonic()
        try:
            await asyncio.wait_for(stop.wait(), timeout=max(wake, 0.05))
        except TimeoutError:
            continue


async def _run_logged(job: Job, runtime: Runtime) -> None:
    started = time.perf_counter()
    try:
        await job.run(runtime)
    except Exception:  # one failed run must not stop the worker; it is retried next time
        logger.exception("job %s failed", job.name)
        return
    logger.debug("job %s took %.3f s", job.name, time.perf_counter() - started)
