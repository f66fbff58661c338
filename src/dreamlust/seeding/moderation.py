"""Reports in every stage of the moderation queue, and the audit log of staff actions.

Reports that were acted upon (ACTION_TAKEN) are left out on purpose: their action
would have to be reflected in the reported rows to be believable.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from dreamlust.models.enums import (
    CreatorStatus,
    ModerationAction,
    ReportStatus,
    ReportTargetType,
    ReportType,
    UserRole,
)
from dreamlust.seeding.catalog import REPORT_REASONS
from dreamlust.seeding.content import PlannedContent
from dreamlust.seeding.context import Row, SeedContext
from dreamlust.seeding.people import Community

_STATUSES = (
    ReportStatus.PENDING,
    ReportStatus.UNDER_REVIEW,
    ReportStatus.RESOLVED,
    ReportStatus.DISMISSED,
)
_STATUS_WEIGHTS = (45, 15, 20, 20)
_TYPES_BY_TARGET = {
    ReportTargetType.CONTENT: (
        ReportType.INAPPROPRIATE_CONTENT,
        ReportType.COPYRIGHT_VIOLATION,
        ReportType.SPAM,
        ReportType.OTHER,
    ),
    ReportTargetType.COMMENT: (ReportType.SPAM, ReportType.HARASSMENT, ReportType.OTHER),
    ReportTargetType.USER: (
        ReportType.FAKE_ACCOUNT,
        ReportType.HARASSMENT,
        ReportType.UNDERAGE,
        ReportType.SPAM,
    ),
    ReportTargetType.CREATOR: (
        ReportType.FAKE_ACCOUNT,
        ReportType.COPYRIGHT_VIOLATION,
        ReportType.OTHER,
    ),
}
_NOTES = {
    ReportStatus.UNDER_REVIEW: "Looking into it.",
    ReportStatus.RESOLVED: "Owner fixed the issue after a warning.",
    ReportStatus.DISMISSED: "No violation of the guidelines found.",
}
_CREATOR_DECISIONS = {
    CreatorStatus.APPROVED: "creator.approve",
    CreatorStatus.SUSPENDED: "creator.suspend",
    CreatorStatus.REJECTED: "creator.reject",
}


def report_rows(
    ctx: SeedContext,
    community: Community,
    plans: list[PlannedContent],
    comment_ids: list[uuid.UUID],
) -> tuple[list[Row], list[Row]]:
    """Reports from adult accounts against listed content, comments, users and creators,
    with an audit entry for each one a moderator closed."""
    rng = ctx.rng
    targets: dict[ReportTargetType, list[uuid.UUID]] = {
        ReportTargetType.CONTENT: [plan.id for plan in plans if plan.listed],
        ReportTargetType.COMMENT: comment_ids,
        ReportTargetType.USER: [
            person.id for person in community.people if person.role is UserRole.USER
        ],
        ReportTargetType.CREATOR: [creator.id for creator in community.creators],
    }
    kinds = [kind for kind, ids in targets.items() if ids]
    reporters = community.adults
    seen: set[tuple[uuid.UUID, uuid.UUID]] = set()
    reports: list[Row] = []
    audit: list[Row] = []
    for _ in range(ctx.sizes.reports if kinds and reporters else 0):
        kind = rng.choice(kinds)
        target_id = rng.choice(targets[kind])
        reporter = rng.choice(reporters)
        if (reporter.id, target_id) in seen or reporter.id == target_id:
            continue
        seen.add((reporter.id, target_id))
        report_type = rng.choice(_TYPES_BY_TARGET[kind])
        status = rng.choices(_STATUSES, _STATUS_WEIGHTS)[0]
        created_at = ctx.days_ago(30, 0.1)
        closed = status in (ReportStatus.RESOLVED, ReportStatus.DISMISSED)
        resolved_at = ctx.between(created_at, ctx.now) if closed else None
        report_id = ctx.new_id()
        reports.append(
            {
                "id": report_id,
                "reporter_id": reporter.id,
                "target_type": kind,
                "target_id": target_id,
                "type": report_type,
                "reason": rng.choice(REPORT_REASONS[report_type.value]),
                "description": None,
                "status": status,
                "moderator_id": None if status is ReportStatus.PENDING else community.moderator.id,
                "moderator_notes": _NOTES.get(status),
                "action": ModerationAction.NONE if closed else None,
                "resolved_at": resolved_at,
                "created_at": created_at,
                "updated_at": resolved_at or created_at,
                "version": 1 if status is ReportStatus.PENDING else 2,
            }
        )
        if resolved_at is not None:
            audit.append(
                _audit_entry(
                    ctx,
                    actor_id=community.moderator.id,
                    action=f"report.{status.value.lower()}",
                    target_type="report",
                    target_id=report_id,
                    at=resolved_at,
                    details={"target_type": kind.value, "target_id": str(target_id)},
                )
            )
    return reports, audit


def creator_review_rows(ctx: SeedContext, community: Community) -> list[Row]:
    """The admin's decisions on creator applications and verifications."""
    entries: list[Row] = []
    for creator in community.creators:
        action = _CREATOR_DECISIONS.get(creator.status)
        if action is not None:
            entries.append(
                _audit_entry(
                    ctx,
                    actor_id=community.admin.id,
                    action=action,
                    target_type="creator",
                    target_id=creator.id,
                    at=creator.row["updated_at"],
                    details={"handle": creator.handle},
                )
            )
        if creator.row["verified_at"] is not None:
            entries.append(
                _audit_entry(
                    ctx,
                    actor_id=community.admin.id,
                    action="creator.verify",
                    target_type="creator",
                    target_id=creator.id,
                    at=creator.row["verified_at"],
                    details={"handle": creator.handle},
                )
            )
    return entries


def _audit_entry(
    ctx: SeedContext,
    *,
    actor_id: uuid.UUID,
    action: str,
    target_type: str,
    target_id: uuid.UUID,
    at: datetime,
    details: dict[str, str],
) -> Row:
    return {
        "id": ctx.new_id(),
        "actor_id": actor_id,
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "details": details,
        "created_at": at,
    }
