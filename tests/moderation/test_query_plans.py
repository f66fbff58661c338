"""Every list of moderation is read in order from an index: the queue (open cases, or
the cases of one status, by score), the newest reports of each entry, a reporter's own
reports, and the audit log under each of its filters. The database never collects and
sorts the matching rows to cut a page.

The statements are built as the routes build them (repository query, then the paginator),
for the first page and for a page after a cursor, and explained as the session sends them,
over a history of moderation (see `History`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.models import AuditLogEntry, ModerationCase, Report
from dreamlust.models.enums import ReportStatus, ReportTargetType, ReportType
from dreamlust.moderation.repository import (
    BY_SCORE,
    NEWEST_ENTRIES,
    NEWEST_REPORTS,
    OPEN_STATUSES,
    AuditFilter,
    AuditRepository,
    CaseRepository,
    ModerationRepository,
)
from dreamlust.runtime import Runtime
from tests.content.test_query_plans import pages
from tests.fixtures.factories import make_user
from tests.fixtures.plans import assert_read_in_order, query_plan

AUDIT_INDEXES = {
    "everything": {"ix_audit_log_created_at_id"},
    "actor": {"ix_audit_log_actor_id_created_at_id"},
    "action": {"ix_audit_log_action_created_at_id"},
    "target type": {"ix_audit_log_target_type_created_at_id"},
    "target": {"ix_audit_log_target_id_created_at_id"},
    "time range": {"ix_audit_log_created_at_id"},
    "actor and action": {
        "ix_audit_log_actor_id_created_at_id",
        "ix_audit_log_action_created_at_id",
    },
    "target type and target": {
        "ix_audit_log_target_type_created_at_id",
        "ix_audit_log_target_id_created_at_id",
    },
}
ENTRIES = 1000
ACTORS = 50
TARGETS = 200
CASES = 300
REPORTS_PER_CASE = 4


@dataclass(frozen=True)
class History:
    """Months of moderation: audit entries by many actors on many targets, cases of every
    status and their reports. PostgreSQL's statistics are gathered over them: on empty
    tables it rightly finds fetching and sorting a few rows cheaper than reading in
    order. SQLite plans by the schema alone."""

    actor_id: uuid.UUID
    target_id: uuid.UUID
    reporter_id: uuid.UUID
    case_ids: list[uuid.UUID]
    start: datetime


@pytest.fixture
async def history(session: AsyncSession, backend: str) -> History:
    actors = [await make_user(session) for _ in range(ACTORS)]
    targets = [uuid.uuid4() for _ in range(TARGETS)]
    start = utcnow() - timedelta(days=90)
    session.add_all(
        AuditLogEntry(
            actor_id=actors[n % ACTORS].id,
            action=f"thing.{n % 20}",
            target_type=("content", "comment", "user", "creator", "report")[n % 5],
            target_id=targets[n % TARGETS],
            created_at=start + timedelta(hours=2 * n),
        )
        for n in range(ENTRIES)
    )
    statuses = list(ReportStatus)
    cases = [
        ModerationCase(
            target_type=ReportTargetType.USER,
            target_id=uuid.uuid4(),
            status=statuses[n % len(statuses)],
            report_count=REPORTS_PER_CASE,
            score=(n * 37) % 1000,
        )
        for n in range(CASES)
    ]
    session.add_all(cases)
    await session.flush()
    session.add_all(
        Report(
            case_id=case.id,
            reporter_id=actors[(n + number) % ACTORS].id,
            target_type=case.target_type,
            target_id=case.target_id,
            type=ReportType.SPAM,
            reason="spam",
            status=case.status,
            weight=20,
            created_at=start + timedelta(hours=n, minutes=number),
        )
        for n, case in enumerate(cases)
        for number in range(REPORTS_PER_CASE)
    )
    await session.commit()
    if backend == "postgresql":
        for table in ("audit_log", "moderation_cases", "reports"):
            await session.execute(text(f"ANALYZE {table}"))
        await session.commit()
    return History(actors[7].id, targets[11], actors[3].id, [c.id for c in cases[:20]], start)


def _audit_filter(name: str, history: History) -> AuditFilter:
    middle = history.start + timedelta(days=40)
    return {
        "everything": AuditFilter(),
        "actor": AuditFilter(actor_id=history.actor_id),
        "action": AuditFilter(action="thing.3"),
        "target type": AuditFilter(target_type="content"),
        "target": AuditFilter(target_id=history.target_id),
        "time range": AuditFilter(since=middle, until=middle + timedelta(days=7)),
        "actor and action": AuditFilter(actor_id=history.actor_id, action="thing.7"),
        "target type and target": AuditFilter(target_type="user", target_id=history.target_id),
    }[name]


@pytest.mark.parametrize("status", [None, *ReportStatus])
async def test_the_queue_is_read_by_score_from_an_index(
    session: AsyncSession,
    runtime: Runtime,
    backend: str,
    history: History,
    status: ReportStatus | None,
) -> None:
    # An open status may also be read from the index of open cases, skipping the others.
    indexes = {"ix_moderation_cases_status_score_id"}
    if status is None or status in OPEN_STATUSES:
        indexes = {"ix_moderation_cases_open_score_id"} | (indexes if status else set())
    for page in pages(runtime, BY_SCORE):
        stmt = runtime.paginator.apply(CaseRepository(session).cases(status), BY_SCORE, page)
        plan = await query_plan(session, stmt)

        assert_read_in_order(plan, "moderation_cases", indexes, backend)


async def test_each_entry_reads_only_its_newest_reports_from_an_index(
    session: AsyncSession, backend: str, history: History
) -> None:
    stmt = ModerationRepository(session).latest_reports(history.case_ids, 10)

    plan = await query_plan(session, stmt)

    assert_read_in_order(plan, "reports", {"ix_reports_case_id_created_at_id"}, backend)


async def test_a_reporters_own_reports_are_read_from_an_index(
    session: AsyncSession, runtime: Runtime, backend: str, history: History
) -> None:
    for page in pages(runtime, NEWEST_REPORTS):
        stmt = ModerationRepository(session).of_reporter(history.reporter_id)
        plan = await query_plan(session, runtime.paginator.apply(stmt, NEWEST_REPORTS, page))

        assert_read_in_order(plan, "reports", {"ix_reports_reporter_id_created_at_id"}, backend)


@pytest.mark.parametrize("name", list(AUDIT_INDEXES))
async def test_the_audit_log_is_read_from_an_index_under_every_filter(
    session: AsyncSession, runtime: Runtime, backend: str, history: History, name: str
) -> None:
    for page in pages(runtime, NEWEST_ENTRIES):
        stmt = AuditRepository(session).entries(_audit_filter(name, history))
        plan = await query_plan(session, runtime.paginator.apply(stmt, NEWEST_ENTRIES, page))

        assert_read_in_order(plan, "audit_log", AUDIT_INDEXES[name], backend)
