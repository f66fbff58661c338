"""Side effects (e-mail, fan-out) queued in a transaction and run only after it commits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

Job = Callable[[], Awaitable[None]]
_KEY = "after_commit_jobs"


def after_commit(session: AsyncSession, job: Job) -> None:
    """Queue `job` to run once the session's transaction has committed."""
    session.info.setdefault(_KEY, []).append(job)


def take_jobs(session: AsyncSession) -> list[Job]:
    """The queued jobs, removed from the session (call after a successful commit)."""
    jobs: list[Job] = session.info.pop(_KEY, [])
    return jobs


async def run_job(job: Job) -> None:
    await job()
