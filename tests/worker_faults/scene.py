"""What each case of the worker-killed test works with: the test's database, a runtime
whose storage is the worker's media folder, and the backlog a case leaves for a job."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.db import Database
from dreamlust.runtime import Runtime


@dataclass
class Scene:
    database: Database
    # Its storage is the local folder the worker keeps media in.
    runtime: Runtime
    folder: Path
    cleanups: AsyncExitStack
    # When the run that finished the job began and ended.
    rerun_from: datetime | None = None
    rerun_to: datetime | None = None

    @property
    def media_dir(self) -> Path:
        return self.folder / "media"

    @property
    def upload_dir(self) -> Path:
        return self.folder / "uploads"

    def session(self) -> AsyncSession:
        return self.database.session()

    async def count(self, sql: str, **parameters: Any) -> int:
        """`SELECT count(*) …` in plain SQL: soft-deleted rows are counted too."""
        async with self.database.session(write=False) as session:
            found = await session.scalar(text(sql), parameters)
        return int(found or 0)

    async def rows(self, sql: str, **parameters: Any) -> Sequence[Any]:
        async with self.database.session(write=False) as session:
            return (await session.execute(text(sql), parameters)).all()


class Backlog(Protocol):
    """A job's work prepared in advance, and how the test tells how far the job got."""

    # Settings the worker runs with for this job, on top of the test's.
    variables: dict[str, str]

    async def prepare(self, scene: Scene) -> None: ...

    async def at_work(self, scene: Scene) -> bool:
        """Whether the job is seen at work, with work left to do."""
        ...

    async def assert_unfinished(self, scene: Scene) -> None:
        """The killed run left work undone (it was killed in the middle)."""
        ...

    async def before_rerun(self, scene: Scene) -> None: ...

    async def assert_finished(self, scene: Scene) -> None:
        """The state a run that was never killed leaves."""
        ...
