"""A worker killed with SIGKILL in the middle of each periodic job, then run again, leaves
what a run that was never killed leaves: nothing lost, nothing applied twice.

For every job of `dreamlust worker` a backlog big enough to take the job a while is made
on PostgreSQL (and Redis where the job reads it); the real worker runs as a process of
its own and is killed, with the programs it runs, as soon as the job is seen at work
(work committed and work left, or a statement inside its open transaction); the kill is
checked to have left work undone; then `worker --once` runs to its end and the state is
checked against the backlog, with `recount --check` and `media gc --check` clean.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.jobs import periodic
from dreamlust.kit.clock import utcnow
from tests.conftest import make_settings
from tests.fixtures.cli import Invoke
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.worker_process import WorkerProcess
from tests.worker_faults.content_backlogs import (
    BufferedViews,
    OldViewMarks,
    ScheduledDrafts,
    StaleTrending,
)
from tests.worker_faults.media_backlogs import AbandonedUploads, StoredGarbage, UploadedVideo
from tests.worker_faults.money_backlogs import DueSubscriptions, ExpiredIdempotencyKeys
from tests.worker_faults.notification_backlogs import (
    Announcement,
    OldReadNotifications,
    UntoldLikes,
)
from tests.worker_faults.purge_backlog import DeletedContent
from tests.worker_faults.scene import Backlog, Scene

# The backlog of each job of `dreamlust worker`, by the job's name.
BACKLOGS: dict[str, Callable[[], Backlog]] = {
    "release-scheduled": ScheduledDrafts,
    "flush-views": BufferedViews,
    "forget-view-marks": OldViewMarks,
    "refresh-trending": StaleTrending,
    "deliver-notifications": Announcement,
    "tell-likes": UntoldLikes,
    "renew-subscriptions": DueSubscriptions,
    "process-media": UploadedVideo,
    "forget-idempotency-keys": ExpiredIdempotencyKeys,
    "forget-old-notifications": OldReadNotifications,
    "forget-abandoned-uploads": AbandonedUploads,
    "purge-deleted": DeletedContent,
    "collect-media-garbage": StoredGarbage,
}


def test_every_job_of_the_worker_has_a_case() -> None:
    jobs = periodic.jobs(make_settings("sqlite+aiosqlite://"))
    assert sorted(job.name for job in jobs) == sorted(BACKLOGS)


@pytest.fixture
async def scene(settings: Settings, database: Database, tmp_path: Path) -> AsyncIterator[Scene]:
    async with (
        own_runtime(
            settings, media_dir=tmp_path / "media", upload_dir=tmp_path / "uploads"
        ) as runtime,
        AsyncExitStack() as cleanups,
    ):
        yield Scene(database, runtime, tmp_path, cleanups)


@pytest.mark.postgresql_only
@pytest.mark.parametrize("job", sorted(BACKLOGS))
async def test_a_worker_killed_in_the_middle_of_a_job_loses_nothing_when_run_again(
    job: str,
    scene: Scene,
    settings: Settings,
    dreamlust_cli: Invoke,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DREAMLUST_MEDIA_DIR", str(scene.media_dir))
    backlog = BACKLOGS[job]()
    await backlog.prepare(scene)
    # Counters made exact first: any drift at the end comes from the kill.
    assert (await dreamlust_cli("recount")).exit_code == 0
    worker = WorkerProcess.on(settings, scene.folder, **backlog.variables)

    await worker.kill_once_at_work(lambda: backlog.at_work(scene))
    await backlog.assert_unfinished(scene)

    await backlog.before_rerun(scene)
    scene.rerun_from = utcnow()
    await worker.run_once()
    scene.rerun_to = utcnow()
    await backlog.assert_finished(scene)

    recount = await dreamlust_cli("recount", "--check")
    assert recount.exit_code == 0, recount.output
    gc = await dreamlust_cli("media", "gc", "--check", "--min-age-minutes", "0")
    assert gc.exit_code == 0, gc.output
