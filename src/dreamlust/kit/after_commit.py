"""Side effects (e-mail, fan-out, live feeds) queued in a transaction and run only after
it commits: the request's transaction runs them after its response, any other
(`Database.transaction`) as soon as it has committed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

Job = Callable[[], Awaitable[None]]
_KEY = "after_commit_jobs"

logger = logging.getLogger(__name__)


def after_commit(session: AsyncSession, job: Job) -> None:
    """Queue `job` to run once the session's transaction has committed."""
    session.info.setdefault(_KEY, []).append(job)


def take_jobs(session: AsyncSession) -> list[Job]:
    """The queued jobs, removed from the session (call after a successful commit)."""
    jobs: list[Job] = session.info.pop(_KEY, [])
    return jobs


async def run_jobs(jobs: list[Job]) -> None:
    """Run each job in turn; one that fails is logged and does not stop the others (the
    transaction they follow has committed: there is nothing to undo)."""
    for job in jobs:
        try:
            await job()
        except Exception:
            logger.exception("a job run after commit failed")
