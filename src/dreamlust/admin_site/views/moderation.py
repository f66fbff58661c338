"""Moderation: the cases and reports in the queue, decided as moderators do through the
API, and the audit log of every moderator and administrator action."""

from __future__ import annotations

import uuid
from typing import Any

from sqladmin import action
from starlette.requests import Request
from starlette.responses import Response

from dreamlust.admin_site.decisions import (
    Apply,
    Decision,
    DecisionContext,
    DecisionView,
    decisions_by_slug,
)
from dreamlust.admin_site.views.base import ReadOnlyView
from dreamlust.models import AuditLogEntry, ModerationCase, Report
from dreamlust.models.enums import ReportStatus
from dreamlust.moderation import decisions
from dreamlust.moderation.schemas import ReportDecision


def _move_to(status: ReportStatus) -> Apply:
    async def apply(context: DecisionContext, report_id: uuid.UUID, version: int) -> None:
        await decisions.decide(
            context.session,
            context.admin,
            report_id,
            ReportDecision(status=status, moderator_notes=context.reason, version=version),
            expected_version=version,
        )

    return apply


UNDER_REVIEW = Decision(
    "review",
    "Take under review",
    "Every open report on the same target goes under review with it.",
    _move_to(ReportStatus.UNDER_REVIEW),
    True,
)
RESOLVE = Decision(
    "resolve",
    "Resolve",
    "Closes every open report on the same target as resolved; the reporters are told.",
    _move_to(ReportStatus.RESOLVED),
    True,
)
DISMISS = Decision(
    "dismiss",
    "Dismiss",
    "Closes every open report on the same target: no rule was broken; the reporters are told.",
    _move_to(ReportStatus.DISMISSED),
    True,
)


class ModerationCaseView(ReadOnlyView, model=ModerationCase):
    name = "Moderation case"
    name_plural = "Moderation cases"
    icon = "fa-solid fa-scale-balanced"
    category = "Moderation"
    column_list = [
        ModerationCase.target_type,
        ModerationCase.target_id,
        ModerationCase.status,
        ModerationCase.report_count,
        ModerationCase.score,
        ModerationCase.action,
        ModerationCase.created_at,
        ModerationCase.closed_at,
    ]
    column_details_list = [
        ModerationCase.id,
        *column_list,
        ModerationCase.auto_hidden_at,
        ModerationCase.updated_at,
    ]
    column_sortable_list = [ModerationCase.created_at, ModerationCase.score]
    # Searched by the id of the case or of its target.
    column_searchable_list = [ModerationCase.target_id]
    search_ids = (ModerationCase.id, ModerationCase.target_id)


class ReportView(DecisionView, model=Report):
    name = "Report"
    name_plural = "Reports"
    icon = "fa-solid fa-flag"
    category = "Moderation"
    column_list = [
        Report.target_type,
        Report.target_id,
        Report.type,
        Report.reason,
        Report.status,
        Report.action,
        Report.created_at,
        Report.resolved_at,
    ]
    column_details_list = [
        Report.id,
        Report.case_id,
        Report.reporter_id,
        Report.target_type,
        Report.target_id,
        Report.type,
        Report.reason,
        Report.description,
        Report.status,
        Report.action,
        Report.moderator_id,
        Report.moderator_notes,
        Report.weight,
        Report.snapshot,
        Report.created_at,
        Report.resolved_at,
        Report.version,
    ]
    column_sortable_list = [Report.created_at, Report.status]
    column_searchable_list = [Report.reason, Report.description]
    search_text = (Report.reason, Report.description)
    search_ids = (Report.id, Report.case_id, Report.target_id, Report.reporter_id)
    decisions = decisions_by_slug(UNDER_REVIEW, RESOLVE, DISMISS)

    def describe(self, row: Any) -> str:
        return f"{row.type.value} on {row.target_type.value} {row.target_id}: {row.status.value}"

    @action("review", "Take under review")
    async def review(self, request: Request) -> Response:
        return await self.confirm(request, UNDER_REVIEW.slug)

    @action("resolve", "Resolve")
    async def resolve(self, request: Request) -> Response:
        return await self.confirm(request, RESOLVE.slug)

    @action("dismiss", "Dismiss")
    async def dismiss(self, request: Request) -> Response:
        return await self.confirm(request, DISMISS.slug)


class AuditLogView(ReadOnlyView, model=AuditLogEntry):
    """Append-only; search by action (`user.update`) or by the id of an actor or target."""

    name = "Audit log entry"
    name_plural = "Audit log"
    icon = "fa-solid fa-clipboard-list"
    category = "Moderation"
    column_list = [
        AuditLogEntry.created_at,
        AuditLogEntry.action,
        AuditLogEntry.actor_id,
        AuditLogEntry.target_type,
        AuditLogEntry.target_id,
        AuditLogEntry.details,
    ]
    column_details_list = [AuditLogEntry.id, *column_list]
    column_sortable_list = [AuditLogEntry.created_at]
    column_searchable_list = [AuditLogEntry.action, AuditLogEntry.target_type]
    search_text = (AuditLogEntry.action, AuditLogEntry.target_type)
    search_ids = (AuditLogEntry.actor_id, AuditLogEntry.target_id)
