"""Reporting: a signed-in user reports content, a comment, an account or a creator they
can see, once while their report on it is open, never their own; and reads their reports.

A report joins its target's open case (opened by the first report) with the weight of
its reporter's track record, and keeps a snapshot of the target (see `auto_hide` for
what a high score does to published content).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.content.visibility import Viewer
from dreamlust.errors import Conflict, InvalidInput, NotFound
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.models import Report
from dreamlust.moderation import auto_hide, track_record
from dreamlust.moderation.repository import NEWEST_REPORTS, ModerationRepository
from dreamlust.moderation.schemas import ReportCreate
from dreamlust.moderation.targets import locate


async def submit(
    session: AsyncSession, viewer: Viewer, data: ReportCreate, settings: Settings
) -> Report:
    reporter = viewer.user
    assert reporter is not None
    target = await locate(session, data.target_type, data.target_id, viewer)
    if target.owner_id == reporter.id:
        raise InvalidInput(
            "You cannot report yourself, your creator profile, or what you made.",
            loc=("body", "target_id"),
        )
    weight = await track_record.weight_of(session, reporter.id)
    repository = ModerationRepository(session)
    case = await repository.open_case(target.type, target.id)
    if await repository.has_open_report(case, reporter.id):
        raise Conflict("You have already reported this; your report is still open.")
    report = Report(
        case_id=case.id,
        reporter_id=reporter.id,
        target_type=target.type,
        target_id=target.id,
        type=data.type,
        reason=data.reason,
        description=data.description,
        status=case.status,  # a report on a target under review is under review too
        weight=weight,
        snapshot=target.snapshot,
    )
    await repository.add(report)
    await repository.count_report(case, weight)
    threshold = settings.moderation_auto_hide_score
    if threshold is not None and target.content is not None:
        await auto_hide.hide_when_over(session, case, target.content, threshold)
    return report


async def of_reporter(
    session: AsyncSession, reporter_id: uuid.UUID, page: PageRequest, paginator: Paginator
) -> KeysetPage[Report]:
    repository = ModerationRepository(session)
    return await repository.page(
        repository.of_reporter(reporter_id), NEWEST_REPORTS, page, paginator
    )


async def own(session: AsyncSession, reporter_id: uuid.UUID, report_id: uuid.UUID) -> Report:
    report = await ModerationRepository(session).report(report_id)
    if report is None or report.reporter_id != reporter_id:
        raise NotFound("No such report.")
    return report
