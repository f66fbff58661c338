"""Every query on reports, moderation cases, reporters' records and the audit log.

Writers of one target's reports queue on its open case's row: a new report and a
decision both lock it first (`open_case`, `lock_case`), then the reports.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, literal, select, union_all, update
from sqlalchemy.orm import aliased

from dreamlust.kit.clock import utcnow
from dreamlust.kit.likely import likely
from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.repository import Repository
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.kit.upsert import insert_or_ignore, upsert
from dreamlust.models import AuditLogEntry, ModerationCase, Report, ReporterRecord, User
from dreamlust.models.enums import ModerationAction, ReportStatus, ReportTargetType
from dreamlust.models.moderation import OPEN

OPEN_STATUSES = (ReportStatus.PENDING, ReportStatus.UNDER_REVIEW)

# The queue: the highest score first (ties: the newest case first).
BY_SCORE = Ordering(
    scope="moderation:cases", keys=(SortKey(ModerationCase.score), SortKey(ModerationCase.id))
)
NEWEST_REPORTS = Ordering(
    scope="moderation:my-reports", keys=(SortKey(Report.created_at), SortKey(Report.id))
)
NEWEST_ENTRIES = Ordering(
    scope="moderation:audit",
    keys=(SortKey(AuditLogEntry.created_at), SortKey(AuditLogEntry.id)),
)


@dataclass(frozen=True)
class AuditFilter:
    """Which audit entries a list shows; None matches everything."""

    actor_id: uuid.UUID | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None


class ModerationRepository(Repository[Report]):
    model = Report

    async def report(self, report_id: uuid.UUID) -> Report | None:
        return await self.get(report_id)

    async def reload(self, report: Report) -> Report:
        """The report as stored now (after waiting for its case's lock)."""
        stored = await self.session.get(Report, report.id, populate_existing=True)
        assert stored is not None
        return stored

    async def open_case(
        self, target_type: ReportTargetType, target_id: uuid.UUID
    ) -> ModerationCase:
        """The target's open case, locked; opened when there is none. A case that a
        decision closed while this waited for it is passed over for a new one."""
        while True:
            await self.session.execute(
                insert_or_ignore(self.session, ModerationCase).values(
                    target_type=target_type, target_id=target_id, status=ReportStatus.PENDING
                )
            )
            case = await self._locked(
                ModerationCase.target_type == target_type,
                ModerationCase.target_id == target_id,
                OPEN,
            )
            if case is not None:
                return case

    async def lock_case(self, case_id: uuid.UUID) -> ModerationCase:
        case = await self._locked(ModerationCase.id == case_id)
        assert case is not None  # reports go with their case
        return case

    async def _locked(self, *where: Any) -> ModerationCase | None:
        stmt = (
            select(ModerationCase)
            .where(*where)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def has_open_report(self, case: ModerationCase, reporter_id: uuid.UUID) -> bool:
        stmt = select(Report.id).where(
            Report.case_id == case.id,
            Report.reporter_id == reporter_id,
            Report.status.in_(OPEN_STATUSES),
        )
        return (await self.session.execute(stmt)).first() is not None

    async def count_report(self, case: ModerationCase, weight: int) -> None:
        """One more report of this weight on the (locked) case."""
        case.report_count = ModerationCase.report_count + 1
        case.score = ModerationCase.score + weight
        await self.session.flush()
        await self.session.refresh(case, ["report_count", "score"])

    async def move_open_reports(
        self, case: ModerationCase, but: Report, values: dict[str, Any]
    ) -> list[uuid.UUID]:
        """Give the case's other open reports the same outcome as `but`; their ids."""
        moved = await self.session.execute(
            update(Report)
            .where(
                Report.case_id == case.id,
                Report.id != but.id,
                Report.status.in_(OPEN_STATUSES),
            )
            .values(**values, version=Report.version + 1, updated_at=utcnow())
            .returning(Report.id)
            .execution_options(synchronize_session=False)
        )
        return list(moved.scalars())

    async def update_case(
        self,
        case: ModerationCase,
        *,
        status: ReportStatus,
        action: ModerationAction | None,
        closed_at: datetime | None,
    ) -> None:
        case.status, case.action, case.closed_at = status, action, closed_at
        await self.session.flush()

    async def reports_by_reporter(self, case: ModerationCase) -> list[tuple[uuid.UUID, uuid.UUID]]:
        """(report id, reporter id) of the case's reports whose reporter still exists."""
        rows = await self.session.execute(
            select(Report.id, Report.reporter_id)
            .where(Report.case_id == case.id, Report.reporter_id.is_not(None))
            .order_by(Report.reporter_id)
        )
        return [
            (report_id, reporter_id) for report_id, reporter_id in rows if reporter_id is not None
        ]

    async def record_of(self, user_id: uuid.UUID) -> ReporterRecord | None:
        return await self.session.get(ReporterRecord, user_id)

    async def count_closed(self, case_id: uuid.UUID, *, upheld: bool) -> None:
        """One more closed (and maybe upheld) report for each reporter of the case, whose
        reporters are distinct; rows are taken in id order, as every decision takes them."""
        reporters = (
            select(Report.reporter_id, literal(1), literal(int(upheld)))
            .where(Report.case_id == case_id, Report.reporter_id.is_not(None))
            .order_by(Report.reporter_id)
        )
        insert = upsert(self.session, ReporterRecord).from_select(
            ["user_id", "closed_reports", "upheld_reports"], reporters
        )
        await self.session.execute(
            insert.on_conflict_do_update(
                index_elements=[ReporterRecord.user_id],
                set_={
                    "closed_reports": ReporterRecord.closed_reports + 1,
                    "upheld_reports": ReporterRecord.upheld_reports
                    + insert.excluded.upheld_reports,
                },
            )
        )

    def latest_reports(self, case_ids: Collection[uuid.UUID], per_case: int) -> Select[Any]:
        """The newest `per_case` reports of each case (in no particular order): one
        index range of at most `per_case` rows per case, however many reports it has."""
        newest = (Report.created_at.desc(), Report.id.desc())
        ranges = [
            select(Report).where(Report.case_id == case_id).order_by(*newest).limit(per_case)
            for case_id in case_ids
        ]
        reports = union_all(*(branch.subquery().select() for branch in ranges)).subquery()
        return select(aliased(Report, reports))

    async def all_of(self, stmt: Select[Any]) -> list[Report]:
        return list((await self.session.execute(stmt)).scalars())

    def of_reporter(self, reporter_id: uuid.UUID) -> Select[Report]:
        return self.select().where(Report.reporter_id == reporter_id)


class CaseRepository(Repository[ModerationCase]):
    model = ModerationCase

    def cases(self, status: ReportStatus | None) -> Select[ModerationCase]:
        """Cases of one status, or the open ones (most cases that are not closed are
        open: read from the partial index of open cases, not looked up by status)."""
        return self.select().where(
            likely(OPEN) if status is None else ModerationCase.status == status
        )


class AuditRepository(Repository[AuditLogEntry]):
    model = AuditLogEntry

    def entries(self, filters: AuditFilter) -> Select[AuditLogEntry]:
        stmt = self.select()
        if filters.actor_id is not None:
            stmt = stmt.where(AuditLogEntry.actor_id == filters.actor_id)
        if filters.action is not None:
            stmt = stmt.where(AuditLogEntry.action == filters.action)
        if filters.target_type is not None:
            stmt = stmt.where(AuditLogEntry.target_type == filters.target_type)
        if filters.target_id is not None:
            stmt = stmt.where(AuditLogEntry.target_id == filters.target_id)
        if filters.since is not None:
            stmt = stmt.where(AuditLogEntry.created_at >= filters.since)
        if filters.until is not None:
            stmt = stmt.where(AuditLogEntry.created_at < filters.until)
        return stmt

    async def usernames(self, user_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The usernames of these accounts, deleted ones too."""
        if not user_ids:
            return {}
        rows = await self.session.execute(
            select(User.id, User.username)
            .where(User.id.in_(user_ids))
            .execution_options(**{INCLUDE_DELETED: True})
        )
        return dict(rows.all())
