"""Moderators' decisions. A report moves PENDING → UNDER_REVIEW → RESOLVED, DISMISSED or
ACTION_TAKEN; PENDING may go straight to a final status (an obvious case needs no
separate claim), and a final status is final. A target gets one decision: each step
applies to every open report on it (its case), so a report filed while the target is
under review is under review too, and closing one report closes them all with the same
outcome, in one transaction with the action's effect, the reporters' track records and
one REPORT_RESOLVED notification per reporter. Every step is audited.

A decision is version-checked on the report it names. Concurrent decisions on one
target queue on its case's row; each then reads the report again, so of moderators
deciding the same version one succeeds and the others are told it is stale.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.errors import Conflict, Forbidden, InvalidInput, NotFound
from dreamlust.kit.clock import utcnow
from dreamlust.kit.repository import expect_version
from dreamlust.models import ModerationCase, Report, User
from dreamlust.models.enums import ModerationAction, NotificationType, ReportStatus
from dreamlust.moderation import actions, audit, auto_hide, targets, track_record
from dreamlust.moderation.repository import ModerationRepository
from dreamlust.moderation.schemas import ReportDecision
from dreamlust.notifications import service as notifications

FINAL = track_record.CLOSED
_NEXT = {
    ReportStatus.PENDING: FINAL | {ReportStatus.UNDER_REVIEW},
    ReportStatus.UNDER_REVIEW: FINAL,
}
_TOLD = {
    ReportStatus.RESOLVED: "Your report was resolved",
    ReportStatus.DISMISSED: "Your report was reviewed: no rule was broken",
    ReportStatus.ACTION_TAKEN: "We took action on what you reported",
}


async def read(session: AsyncSession, report_id: uuid.UUID) -> Report:
    report = await ModerationRepository(session).report(report_id)
    if report is None:
        raise NotFound("No such report.")
    return report


async def decide(
    session: AsyncSession,
    staff: User,
    report_id: uuid.UUID,
    decision: ReportDecision,
    *,
    expected_version: int,
) -> Report:
    action = _recorded_action(decision)
    repository = ModerationRepository(session)
    report = await read(session, report_id)
    expect_version(report, expected_version)
    case = await repository.lock_case(report.case_id)
    report = await repository.reload(report)
    expect_version(report, expected_version)
    _check_transition(case.status, decision.status)
    if action not in (None, ModerationAction.NONE):
        actions.check_fits(action, case.target_type)
    owner_id = await targets.owner_of(session, case.target_type, case.target_id)
    if owner_id == staff.id:
        raise Forbidden("A report about you or what you made is for another moderator.")

    before = {"status": case.status.value, "action": None}
    final = decision.status in FINAL
    now = utcnow()
    outcome: dict[str, Any] = {
        "status": decision.status,
        "action": action,
        "moderator_id": staff.id,
        "resolved_at": now if final else None,
    }
    if decision.moderator_notes is not None:
        outcome["moderator_notes"] = decision.moderator_notes
    await repository.update(report, outcome)  # the version check of the database
    others = await repository.move_open_reports(case, report, outcome)
    await repository.update_case(
        case, status=decision.status, action=action, closed_at=now if final else None
    )
    if final:
        await _close(session, staff, case, decision.status, action, owner_id)
    await audit.record(
        session,
        actor_id=staff.id,
        action=f"report.{decision.status.value.lower()}",
        target_type="report",
        target_id=report.id,
        details={
            "before": before,
            "after": {
                "status": decision.status.value,
                "action": action.value if action is not None else None,
            },
            "case_id": str(case.id),
            "target_type": case.target_type.value,
            "target_id": str(case.target_id),
            "reports": [str(report.id), *map(str, others)],
            "moderator_notes": decision.moderator_notes,
        },
    )
    return report


async def _close(
    session: AsyncSession,
    staff: User,
    case: ModerationCase,
    status: ReportStatus,
    action: ModerationAction | None,
    owner_id: uuid.UUID | None,
) -> None:
    if action is not None and action is not ModerationAction.NONE:
        await actions.take(session, staff, case, action, owner_id)
    if status is ReportStatus.DISMISSED:
        await auto_hide.undo(session, staff, case)
    await track_record.count_decision(session, case.id, status)
    await _tell_reporters(session, staff, case, status)


async def _tell_reporters(
    session: AsyncSession, staff: User, case: ModerationCase, status: ReportStatus
) -> None:
    """Each reporter hears of the decision once, about their own report."""
    for report_id, reporter_id in await ModerationRepository(session).reports_by_reporter(case):
        await notifications.emit(
            session,
            notifications.to_user(
                NotificationType.REPORT_RESOLVED,
                reporter_id,
                actor_id=staff.id,
                title=_TOLD[status],
                link=f"/reports/{report_id}",
                details={
                    "report_id": str(report_id),
                    "status": status.value,
                    "target_type": case.target_type.value,
                    "target_id": str(case.target_id),
                },
            ),
        )


def _recorded_action(decision: ReportDecision) -> ModerationAction | None:
    """The action the decision records (NONE for RESOLVED and DISMISSED, none while
    under review); a 422 when it does not go with the status."""
    status, action = decision.status, decision.action
    if status is ReportStatus.PENDING:
        raise InvalidInput("A report cannot go back to PENDING.", loc=("body", "status"))
    if status is ReportStatus.UNDER_REVIEW:
        if action is not None:
            raise InvalidInput(
                "Taking a report under review takes no action.", loc=("body", "action")
            )
        return None
    acts = action is not None and action is not ModerationAction.NONE
    if status is ReportStatus.ACTION_TAKEN and not acts:
        raise InvalidInput(
            "ACTION_TAKEN needs an action: HIDE_CONTENT, DELETE_COMMENT, SUSPEND_USER or BAN_USER.",
            loc=("body", "action"),
        )
    if status is not ReportStatus.ACTION_TAKEN and acts:
        raise InvalidInput(
            f"{status.value} takes no action; decide ACTION_TAKEN to act.", loc=("body", "action")
        )
    return action if acts else ModerationAction.NONE


def _check_transition(current: ReportStatus, wanted: ReportStatus) -> None:
    if current in FINAL:
        raise Conflict(f"The report was already decided ({current.value}); decisions are final.")
    if wanted not in _NEXT[current]:
        raise Conflict(f"The report is already {current.value}.")
