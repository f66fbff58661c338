"""Side effects (e-mail, fan-out, live feeds, cache invalidation) queued in a transaction
and run only after it commits: the request's transaction runs them after its response
(those the next read depends on, `before_response`, just before it), any other
(`Database.transaction`) as soon as it has committed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

Job = Callable[[], Awaitable[None]]
_KEY = "after_commit_jobs"
_BEFORE_RESPONSE_KEY = "after_commit_jobs_before_response"

logger = logging.getLogger(__name__)


def after_commit(session: AsyncSession, job: Job, *, before_response: bool = False) -> None:
    """Queue `job` to run once the session's transaction has committed. A request's
    response waits for a job `before_response`: one without which a client's next read
    could miss the change (dropping cached answers); the others run after it."""
    session.info.setdefault(_BEFORE_RESPONSE_KEY if before_response else _KEY, []).append(job)


def take_response_jobs(session: AsyncSession) -> list[Job]:
    """The queued jobs a response waits for, removed from the session (call after a
    successful commit)."""
    jobs: list[Job] = session.info.pop(_BEFORE_RESPONSE_KEY, [])
    return jobs


def take_jobs(session: AsyncSession) -> list[Job]:
    """Every queued job, those a response would wait for first, removed from the session
    (call after a successful commit)."""
    jobs: list[Job] = session.info.pop(_KEY, [])
    return take_response_jobs(session) + jobs


async def run_jobs(jobs: list[Job]) -> None:
    """Run each job in turn; one that fails is logged and does not stop the others (the
    transaction they follow has committed: there is nothing to undo)."""
    for job in jobs:
        try:
            await job()
        except Exception:
            logger.exception("a job run after commit failed")
