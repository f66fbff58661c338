"""Request and response models of reports, the moderation queue and the audit log.

Enumerations are answered in capitals, as stored, and accepted in either case
(`hide_content` or `HIDE_CONTENT`). Weights and scores are in reporters: a report
weighs between 0 and 1 (see `track_record`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints

from dreamlust.kit.schemas import Input, LongText, Schema, SingleLine
from dreamlust.models.enums import ModerationAction, ReportStatus, ReportTargetType, ReportType


def _capitals(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


AnyCase = BeforeValidator(_capitals)
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), SingleLine
]


class ReportCreate(Input):
    target_type: Annotated[ReportTargetType, AnyCase]
    target_id: uuid.UUID
    type: Annotated[ReportType, AnyCase]
    reason: Reason
    description: LongText | None = None


class ReportDecision(Input):
    """A moderator's step on a report, applied to every open report on its target:
    UNDER_REVIEW, or a final status. ACTION_TAKEN needs an action with an effect;
    RESOLVED and DISMISSED take none (or NONE)."""

    status: Annotated[ReportStatus, AnyCase]
    action: Annotated[ModerationAction, AnyCase] | None = None
    moderator_notes: LongText | None = None
    version: Annotated[int, Field(strict=True, ge=1)] | None = None


class MyReport(Schema):
    """A report as its reporter sees it: what they reported and how it turned out."""

    id: uuid.UUID
    target_type: ReportTargetType
    target_id: uuid.UUID
    type: ReportType
    reason: str
    description: str | None
    status: ReportStatus
    action: ModerationAction | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    version: int


class ReportRead(Schema):
    """A report as staff see it, with the snapshot of its target and its weight."""

    id: uuid.UUID
    case_id: uuid.UUID
    reporter_id: uuid.UUID | None
    target_type: ReportTargetType
    target_id: uuid.UUID
    type: ReportType
    reason: str
    description: str | None
    status: ReportStatus
    action: ModerationAction | None
    moderator_id: uuid.UUID | None
    moderator_notes: str | None
    weight: float
    snapshot: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    version: int


class ReportSummary(Schema):
    id: uuid.UUID
    reporter_id: uuid.UUID | None
    type: ReportType
    reason: str
    description: str | None
    weight: float
    created_at: datetime
    version: int


class CaseRead(Schema):
    """One entry of the queue: a target and its reports awaiting one decision.
    `reporters` counts distinct reporters, which are as many as the case's reports (a
    reporter has one open report per target); `open_reports` is 0 once decided."""

    id: uuid.UUID
    target_type: ReportTargetType
    target_id: uuid.UUID
    status: ReportStatus
    action: ModerationAction | None
    snapshot: dict[str, Any] | None
    open_reports: int
    reporters: int
    score: float
    auto_hidden_at: datetime | None
    created_at: datetime
    closed_at: datetime | None
    reports: list[ReportSummary]


class AuditActor(Schema):
    id: uuid.UUID
    username: str | None


class AuditEntryRead(Schema):
    id: uuid.UUID
    actor: AuditActor | None
    action: str
    target_type: str
    target_id: uuid.UUID | None
    details: dict[str, Any] | None
    created_at: datetime


AuditAction = Annotated[str, StringConstraints(min_length=1, max_length=64), SingleLine]
AuditTargetType = Annotated[str, StringConstraints(min_length=1, max_length=32), SingleLine]
