"""The base every domain repository builds on."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import Executable, Result, Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.interfaces import ORMOption

from dreamlust.errors import Conflict, StaleVersion
from dreamlust.kit.clock import utcnow
from dreamlust.kit.model import Base, SoftDeleteMixin, VersionedMixin
from dreamlust.kit.pagination import KeysetPage, Ordering, PageRequest, Paginator
from dreamlust.kit.soft_delete import INCLUDE_DELETED

M = TypeVar("M", bound=Base)
S = TypeVar("S", bound=SoftDeleteMixin)


async def run_as_written(
    session: AsyncSession,
    statement: Executable,
    params: dict[str, Any] | Sequence[dict[str, Any]],
) -> Result[Any]:
    """Run a statement on the session's connection as plain SQL, outside the ORM's
    execution path: for statements built once that state every condition themselves,
    soft delete included. The ORM adds the soft-delete criteria (`kit.soft_delete`) to a
    copy of each statement it runs, whose cache key it then computes again: for a
    statement run on every view or like, that cost more than running it. `params` may
    be a list of parameter sets, for an insert of many rows: SQLAlchemy compiles the
    statement once and writes the rows into batches itself."""
    connection = await session.connection()
    return await connection.execute(statement, params)


class Repository(Generic[M]):
    model: type[M]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(
        self,
        id_: uuid.UUID,
        *,
        include_deleted: bool = False,
        options: Sequence[ORMOption] = (),
    ) -> M | None:
        return await self.session.get(
            self.model,
            id_,
            options=options,
            populate_existing=include_deleted,
            execution_options={INCLUDE_DELETED: include_deleted},
        )

    async def one_or_none(self, stmt: Select[M]) -> M | None:
        return (await self.session.execute(stmt)).scalars().unique().one_or_none()

    async def all(self, stmt: Select[M]) -> list[M]:
        return list((await self.session.execute(stmt)).scalars().unique().all())

    def select(self) -> Select[M]:
        return select(self.model)

    async def add(self, obj: M) -> M:
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def page(
        self,
        stmt: Select[M],
        ordering: Ordering,
        request: PageRequest,
        paginator: Paginator,
    ) -> KeysetPage[M]:
        rows = await self.all(paginator.apply(stmt, ordering, request))
        return paginator.page(rows, ordering, request)

    async def page_rows(
        self,
        stmt: Select[Any],
        ordering: Ordering,
        request: PageRequest,
        paginator: Paginator,
    ) -> KeysetPage[Row[Any]]:
        """A page of whole rows, for orderings by computed columns (a search rank …)
        that the rows carry beside the entity, under the sort keys' names."""
        rows = (await self.session.execute(paginator.apply(stmt, ordering, request))).all()
        return paginator.page(rows, ordering, request)

    async def update(self, obj: M, changes: dict[str, Any]) -> M:
        for name, value in changes.items():
            setattr(obj, name, value)
        await self.session.flush()
        return obj


def expect_version(obj: VersionedMixin, expected: int) -> None:
    """Refuse to change `obj` when the client's copy is not the current version.

    This catches a stale client early; a writer that loses the race after this check
    is still stopped by the `version_id_col` UPDATE (StaleDataError).
    """
    if obj.version != expected:
        raise StaleVersion(
            f"The resource is at version {obj.version}, not {expected}; reload it and try again."
        )


async def soft_delete(session: AsyncSession, obj: SoftDeleteMixin) -> None:
    obj.deleted_at = utcnow()
    await session.flush()


async def restore(
    session: AsyncSession, obj: SoftDeleteMixin, *, retention: timedelta, what: str
) -> None:
    """Undo a soft delete made within the retention period (409 otherwise).

    `what` names the row for the client ("The account", "The content" …)."""
    if obj.deleted_at is None:
        raise Conflict(f"{what} is not deleted.")
    if obj.deleted_at < utcnow() - retention:
        raise Conflict(f"{what} was deleted too long ago to be restored.")
    obj.deleted_at = None
    await session.flush()
