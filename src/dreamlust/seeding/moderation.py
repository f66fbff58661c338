"""Reports in every stage of the moderation queue, grouped in cases by target, with the
weights and reporters' track records they add up to, and the audit log of staff actions.

Each case is a target reported by one to a few accounts (never its own), whose reports
share the case's status; a target has at most one open case. Reports that were acted
upon (ACTION_TAKEN) are left out on purpose: their action would have to be reflected in
the reported rows to be believable.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dreamlust.models.enums import (
    CreatorStatus,
    ModerationAction,
    ReportStatus,
    ReportTargetType,
    ReportType,
    UserRole,
)
from dreamlust.moderation.track_record import UPHELD, weight
from dreamlust.seeding.catalog import REPORT_REASONS
from dreamlust.seeding.content import PlannedContent
from dreamlust.seeding.context import Row, SeedContext
from dreamlust.seeding.people import Community, CreatorProfile, Person

_STATUSES = (
    ReportStatus.PENDING,
    ReportStatus.UNDER_REVIEW,
    ReportStatus.RESOLVED,
    ReportStatus.DISMISSED,
)
_STATUS_WEIGHTS = (45, 15, 20, 20)
_OPEN = frozenset({ReportStatus.PENDING, ReportStatus.UNDER_REVIEW})
_REPORTERS_PER_CASE = (1, 1, 1, 2, 2, 3, 5)
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


@dataclass(frozen=True)
class _Target:
    kind: ReportTargetType
    id: uuid.UUID
    owner_id: uuid.UUID
    snapshot: dict[str, Any]


@dataclass
class ModerationRows:
    cases: list[Row] = field(default_factory=list)
    reports: list[Row] = field(default_factory=list)
    records: list[Row] = field(default_factory=list)
    audit: list[Row] = field(default_factory=list)


def moderation_rows(
    ctx: SeedContext,
    community: Community,
    plans: list[PlannedContent],
    comments: list[Row],
) -> ModerationRows:
    """Cases of reports from adult accounts against listed content, comments, users and
    creators, each report weighed by its reporter's record when it was made, with an
    audit entry for each step a moderator took."""
    rng = ctx.rng
    sources: dict[ReportTargetType, list[Any]] = {
        ReportTargetType.CONTENT: [plan for plan in plans if plan.listed],
        ReportTargetType.COMMENT: comments,
        ReportTargetType.USER: [p for p in community.people if p.role is UserRole.USER],
        ReportTargetType.CREATOR: community.creators,
    }
    kinds = [kind for kind, found in sources.items() if found]
    reporters = community.adults
    describe = _Describer(community, plans, comments)
    rows = ModerationRows()
    open_targets: set[uuid.UUID] = set()
    for _ in range(ctx.sizes.reports if kinds and reporters else 0):
        kind = rng.choice(kinds)
        target = describe(kind, rng.choice(sources[kind]))
        status = rng.choices(_STATUSES, _STATUS_WEIGHTS)[0]
        count = min(rng.choice(_REPORTERS_PER_CASE), len(reporters))
        chosen = [p for p in rng.sample(reporters, count) if p.id != target.owner_id]
        if not chosen or (status in _OPEN and target.id in open_targets):
            continue
        if status in _OPEN:
            open_targets.add(target.id)
        _add_case(ctx, rows, community.moderator, target, status, chosen)
    _weigh(rows)
    return rows


def _add_case(
    ctx: SeedContext,
    rows: ModerationRows,
    moderator: Person,
    target: _Target,
    status: ReportStatus,
    reporters: list[Person],
) -> None:
    rng = ctx.rng
    opened_at = ctx.days_ago(30, 0.1)
    times = sorted([opened_at, *(ctx.between(opened_at, ctx.now) for _ in reporters[1:])])
    closed = status not in _OPEN
    closed_at = ctx.between(times[-1], ctx.now) if closed else None
    case_id = ctx.new_id()
    reports: list[Row] = []
    for reporter, at in zip(reporters, times, strict=True):
        report_type = rng.choice(_TYPES_BY_TARGET[target.kind])
        reports.append(
            {
                "id": ctx.new_id(),
                "case_id": case_id,
                "reporter_id": reporter.id,
                "target_type": target.kind,
                "target_id": target.id,
                "type": report_type,
                "reason": rng.choice(REPORT_REASONS[report_type.value]),
                "description": None,
                "status": status,
                "moderator_id": None if status is ReportStatus.PENDING else moderator.id,
                "moderator_notes": _NOTES.get(status),
                "action": ModerationAction.NONE if closed else None,
                "resolved_at": closed_at,
                "weight": 0,  # weighed once every case is known (`_weigh`)
                "snapshot": {**target.snapshot, "taken_at": at.isoformat()},
                "created_at": at,
                "updated_at": closed_at or at,
                "version": 1 if status is ReportStatus.PENDING else 2,
            }
        )
    rows.reports += reports
    rows.cases.append(
        {
            "id": case_id,
            "target_type": target.kind,
            "target_id": target.id,
            "status": status,
            "action": ModerationAction.NONE if closed else None,
            "report_count": len(reports),
            "score": 0,
            "auto_hidden_at": None,
            "closed_at": closed_at,
            "created_at": opened_at,
            "updated_at": closed_at or times[-1],
        }
    )
    if status is not ReportStatus.PENDING:
        step_at = closed_at or ctx.between(times[-1], ctx.now)
        rows.audit.append(
            _audit_entry(
                ctx,
                actor_id=moderator.id,
                action=f"report.{status.value.lower()}",
                target_type="report",
                target_id=reports[0]["id"],
                at=step_at,
                details={
                    "before": {"status": ReportStatus.PENDING.value, "action": None},
                    "after": {"status": status.value, "action": "NONE" if closed else None},
                    "case_id": str(case_id),
                    "target_type": target.kind.value,
                    "target_id": str(target.id),
                    "reports": [str(report["id"]) for report in reports],
                },
            )
        )


def _weigh(rows: ModerationRows) -> None:
    """Give each report its reporter's weight when it was made (the closed cases before
    it count), each case the sum of its reports' weights, and each reporter the record
    all closed cases add up to."""
    closed_reports: dict[uuid.UUID, int] = {}
    upheld_reports: dict[uuid.UUID, int] = {}
    reports_of: dict[uuid.UUID, list[Row]] = {}
    for report in rows.reports:
        reports_of.setdefault(report["case_id"], []).append(report)
    closures = sorted(
        (case for case in rows.cases if case["closed_at"] is not None),
        key=lambda case: case["closed_at"],
    )
    done = 0
    for report in sorted(rows.reports, key=lambda report: report["created_at"]):
        while done < len(closures) and closures[done]["closed_at"] <= report["created_at"]:
            _count_closed(closures[done], reports_of, closed_reports, upheld_reports)
            done += 1
        reporter = report["reporter_id"]
        report["weight"] = weight(closed_reports.get(reporter, 0), upheld_reports.get(reporter, 0))
    for case in closures[done:]:
        _count_closed(case, reports_of, closed_reports, upheld_reports)
    for case in rows.cases:
        case["score"] = sum(report["weight"] for report in reports_of[case["id"]])
    rows.records = [
        {"user_id": user_id, "closed_reports": closed, "upheld_reports": upheld_reports[user_id]}
        for user_id, closed in closed_reports.items()
    ]


def _count_closed(
    case: Row,
    reports_of: dict[uuid.UUID, list[Row]],
    closed_reports: dict[uuid.UUID, int],
    upheld_reports: dict[uuid.UUID, int],
) -> None:
    upheld = int(case["status"] in UPHELD)
    for report in reports_of[case["id"]]:
        reporter = report["reporter_id"]
        closed_reports[reporter] = closed_reports.get(reporter, 0) + 1
        upheld_reports[reporter] = upheld_reports.get(reporter, 0) + upheld


class _Describer:
    """The target behind a reported row, its owner, and the snapshot a report keeps."""

    def __init__(
        self, community: Community, plans: list[PlannedContent], comments: list[Row]
    ) -> None:
        self._usernames = {person.id: person.username for person in community.people}
        commented = {comment["content_id"] for comment in comments}
        self._titles = {plan.id: plan.title for plan in plans if plan.id in commented}

    def __call__(self, kind: ReportTargetType, source: Any) -> _Target:
        if kind is ReportTargetType.CONTENT:
            return self._content(source)
        if kind is ReportTargetType.COMMENT:
            return self._comment(source)
        if kind is ReportTargetType.USER:
            return self._user(source)
        return self._creator(source)

    def _content(self, plan: PlannedContent) -> _Target:
        creator = plan.creator
        snapshot = _snapshot(plan.title, None, creator.user.id, creator.handle)
        snapshot |= {
            "content_type": plan.type.value,
            "creator_id": str(creator.id),
            "is_nsfw": plan.is_nsfw,
        }
        return _Target(ReportTargetType.CONTENT, plan.id, creator.user.id, snapshot)

    def _comment(self, comment: Row) -> _Target:
        author_id: uuid.UUID = comment["user_id"]
        snapshot = _snapshot(
            self._titles[comment["content_id"]],
            comment["text"],
            author_id,
            self._usernames[author_id],
        )
        parent_id = comment["parent_id"]
        snapshot |= {
            "content_id": str(comment["content_id"]),
            "parent_id": str(parent_id) if parent_id is not None else None,
        }
        return _Target(ReportTargetType.COMMENT, comment["id"], author_id, snapshot)

    def _user(self, person: Person) -> _Target:
        snapshot = _snapshot(person.display_name, None, person.id, person.username)
        return _Target(ReportTargetType.USER, person.id, person.id, snapshot)

    def _creator(self, creator: CreatorProfile) -> _Target:
        snapshot = _snapshot(creator.display_name, None, creator.user.id, creator.handle)
        return _Target(ReportTargetType.CREATOR, creator.id, creator.user.id, snapshot)


def _snapshot(title: str, text: str | None, author_id: uuid.UUID, author: str) -> dict[str, Any]:
    return {
        "title": title,
        "text": text,
        "author_id": str(author_id),
        "author": author,
        "media": None,
    }


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
    details: dict[str, Any],
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
