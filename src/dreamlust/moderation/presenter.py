"""Reports, queue entries and audit entries as the API shows them."""

from __future__ import annotations

import uuid

from dreamlust.kit.pagination import KeysetPage
from dreamlust.kit.schemas import Page
from dreamlust.models import AuditLogEntry, Report
from dreamlust.moderation.queue import Entry
from dreamlust.moderation.repository import OPEN_STATUSES
from dreamlust.moderation.schemas import (
    AuditActor,
    AuditEntryRead,
    CaseRead,
    ReportRead,
    ReportSummary,
)
from dreamlust.moderation.track_record import as_float


def present_report(report: Report) -> ReportRead:
    return ReportRead.model_validate(report).model_copy(update={"weight": as_float(report.weight)})


def present_queue(page: KeysetPage[Entry]) -> Page[CaseRead]:
    return Page[CaseRead](
        items=[_entry(entry) for entry in page.items], next_cursor=page.next_cursor
    )


def _entry(entry: Entry) -> CaseRead:
    case = entry.case
    newest = entry.reports[0] if entry.reports else None
    return CaseRead(
        id=case.id,
        target_type=case.target_type,
        target_id=case.target_id,
        status=case.status,
        action=case.action,
        snapshot=newest.snapshot if newest is not None else None,
        open_reports=case.report_count if case.status in OPEN_STATUSES else 0,
        reporters=case.report_count,
        score=as_float(case.score),
        auto_hidden_at=case.auto_hidden_at,
        created_at=case.created_at,
        closed_at=case.closed_at,
        reports=[
            ReportSummary(
                id=report.id,
                reporter_id=report.reporter_id,
                type=report.type,
                reason=report.reason,
                description=report.description,
                weight=as_float(report.weight),
                created_at=report.created_at,
                version=report.version,
            )
            for report in entry.reports
        ],
    )


def present_audit(
    page: KeysetPage[AuditLogEntry], usernames: dict[uuid.UUID, str]
) -> Page[AuditEntryRead]:
    return Page[AuditEntryRead](
        items=[
            AuditEntryRead(
                id=entry.id,
                actor=(
                    AuditActor(id=entry.actor_id, username=usernames.get(entry.actor_id))
                    if entry.actor_id is not None
                    else None
                ),
                action=entry.action,
                target_type=entry.target_type,
                target_id=entry.target_id,
                details=entry.details,
                created_at=entry.created_at,
            )
            for entry in page.items
        ],
        next_cursor=page.next_cursor,
    )
