"""HTTP surface of moderation: reporting (any signed-in user), the staff queue and
decisions, and the audit log (staff)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response, status
from pydantic import AwareDatetime

from dreamlust.auth.dependencies import CurrentUser, Staff
from dreamlust.content.dependencies import ViewerDep
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep, RateLimiterDep, SettingsDep
from dreamlust.kit.preconditions import IfMatch, expected_version, set_etag
from dreamlust.kit.rate_limit import Limit
from dreamlust.kit.schemas import Page
from dreamlust.models.enums import ReportStatus
from dreamlust.moderation import audit, decisions, queue, reports
from dreamlust.moderation.presenter import present_audit, present_queue, present_report
from dreamlust.moderation.repository import AuditFilter
from dreamlust.moderation.schemas import (
    AnyCase,
    AuditAction,
    AuditEntryRead,
    AuditTargetType,
    CaseRead,
    MyReport,
    ReportCreate,
    ReportDecision,
    ReportRead,
)
from dreamlust.request_session import api_router

router = api_router(tags=["moderation"])


@router.post("/reports", status_code=status.HTTP_201_CREATED, response_model=MyReport)
async def create_report(
    data: ReportCreate,
    user: CurrentUser,
    viewer: ViewerDep,
    session: DbSession,
    limiter: RateLimiterDep,
    settings: SettingsDep,
    response: Response,
) -> MyReport:
    """Report content, a comment, an account or a creator profile you can see; one open
    report of yours per target, never about yourself."""
    await limiter.hit(Limit.REPORT, str(user.id))
    report = await reports.submit(session, viewer, data, settings)
    set_etag(response, report)
    return MyReport.model_validate(report)


@router.get("/reports", response_model=Page[MyReport])
async def list_my_reports(
    user: CurrentUser, session: DbSession, page: PageParams, paginator: PaginatorDep
) -> Page[MyReport]:
    """Your reports, newest first, with how each turned out."""
    return Page[MyReport].model_validate(
        await reports.of_reporter(session, user.id, page, paginator)
    )


@router.get("/reports/{report_id}", response_model=MyReport)
async def read_my_report(
    report_id: uuid.UUID, user: CurrentUser, session: DbSession, response: Response
) -> MyReport:
    report = await reports.own(session, user.id, report_id)
    set_etag(response, report)
    return MyReport.model_validate(report)


@router.get("/moderation/reports", response_model=Page[CaseRead])
async def moderation_queue(
    _staff: Staff,
    session: DbSession,
    page: PageParams,
    paginator: PaginatorDep,
    status: Annotated[ReportStatus | None, Query(), AnyCase] = None,
) -> Page[CaseRead]:
    """Reported targets with their reports, the most credibly reported first: the open
    ones, or those of one `status`."""
    return present_queue(await queue.entries(session, status, page, paginator))


@router.get("/moderation/reports/{report_id}", response_model=ReportRead)
async def read_report(
    report_id: uuid.UUID, _staff: Staff, session: DbSession, response: Response
) -> ReportRead:
    report = await decisions.read(session, report_id)
    set_etag(response, report)
    return present_report(report)


@router.patch("/moderation/reports/{report_id}", response_model=ReportRead)
async def decide_report(
    report_id: uuid.UUID,
    decision: ReportDecision,
    staff: Staff,
    session: DbSession,
    response: Response,
    if_match: IfMatch = None,
) -> ReportRead:
    """Take the report under review, or decide it (with an action for ACTION_TAKEN);
    the step applies to every open report on the same target."""
    version = expected_version(if_match, decision.version)
    report = await decisions.decide(session, staff, report_id, decision, expected_version=version)
    set_etag(response, report)
    return present_report(report)


@router.get("/moderation/audit", response_model=Page[AuditEntryRead])
async def audit_log(
    _staff: Staff,
    session: DbSession,
    page: PageParams,
    paginator: PaginatorDep,
    actor_id: uuid.UUID | None = None,
    action: Annotated[AuditAction | None, Query()] = None,
    target_type: Annotated[AuditTargetType | None, Query()] = None,
    target_id: uuid.UUID | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> Page[AuditEntryRead]:
    """Every moderator and administrator action, newest first; `since` (inclusive) and
    `until` (exclusive) bound the time."""
    filters = AuditFilter(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
    )
    return present_audit(*await audit.entries(session, filters, page, paginator))
