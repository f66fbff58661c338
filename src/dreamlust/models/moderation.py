"""Reports against content, comments, users and creators, the cases that group them by
target, the reporters' track records, and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from dreamlust.kit.model import Base, CreatedAtMixin, IdMixin, TimestampMixin, VersionedMixin
from dreamlust.kit.types import JSONDocument, enum_type
from dreamlust.models.enums import ModerationAction, ReportStatus, ReportTargetType, ReportType

# Written as the queries write it: both databases match a partial index to a query by
# its terms, and PostgreSQL cannot prove a predicate from bind parameters.
OPEN = text("status IN ('PENDING', 'UNDER_REVIEW')")


class ModerationCase(IdMixin, TimestampMixin, Base):
    """The reports on one target awaiting one decision: a target has at most one open
    case; a decision closes the case with all of its reports, and later reports on the
    same target open a new one. `score` is the sum of the weights of its reports (each
    the reporter's track record when they reported), kept as the reports come."""

    __tablename__ = "moderation_cases"

    target_type: Mapped[ReportTargetType] = mapped_column(
        enum_type(ReportTargetType, "target_type")
    )
    target_id: Mapped[uuid.UUID]
    status: Mapped[ReportStatus] = mapped_column(
        enum_type(ReportStatus, "status"), default=ReportStatus.PENDING
    )
    action: Mapped[ModerationAction | None] = mapped_column(enum_type(ModerationAction, "action"))
    report_count: Mapped[int] = mapped_column(default=0, server_default="0")
    score: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # When the case's score took the content off the listings, pending review.
    auto_hidden_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "uq_moderation_cases_open_target",
            "target_type",
            "target_id",
            unique=True,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        ),
        # The queue: open cases, highest score first; and the cases of one status.
        Index(
            "ix_moderation_cases_open_score_id",
            "score",
            "id",
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        ),
        Index("ix_moderation_cases_status_score_id", "status", "score", "id"),
    )


class Report(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "reports"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("moderation_cases.id", ondelete="CASCADE")
    )
    reporter_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    target_type: Mapped[ReportTargetType] = mapped_column(
        enum_type(ReportTargetType, "target_type")
    )
    target_id: Mapped[uuid.UUID]
    type: Mapped[ReportType] = mapped_column(enum_type(ReportType, "type"))
    reason: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[ReportStatus] = mapped_column(
        enum_type(ReportStatus, "status"), default=ReportStatus.PENDING, index=True
    )
    moderator_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    moderator_notes: Mapped[str | None] = mapped_column(Text)
    action: Mapped[ModerationAction | None] = mapped_column(enum_type(ModerationAction, "action"))
    resolved_at: Mapped[datetime | None]
    # The reporter's track record when they reported, in thousandths (see track_record).
    weight: Mapped[int]
    # The target as the reporter saw it: evidence that outlives edits and deletion.
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)

    __table_args__ = (
        Index("ix_reports_reporter_id_created_at_id", "reporter_id", "created_at", "id"),
        Index("ix_reports_case_id_created_at_id", "case_id", "created_at", "id"),
        Index("ix_reports_target_type_target_id", "target_type", "target_id"),
        Index(
            "uq_reports_open_per_reporter_target",
            "reporter_id",
            "target_type",
            "target_id",
            unique=True,
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        ),
    )


class ReporterRecord(Base):
    """How a user's closed reports turned out: what their next report weighs."""

    __tablename__ = "reporter_records"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    closed_reports: Mapped[int] = mapped_column(default=0, server_default="0")
    upheld_reports: Mapped[int] = mapped_column(default=0, server_default="0")


class AuditLogEntry(IdMixin, CreatedAtMixin, Base):
    """Every moderator and admin action, kept for review. Append-only: the database
    refuses to change or delete an entry (revision 0008), but for the foreign key's
    clearing of the actor of an account that is purged."""

    __tablename__ = "audit_log"

    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[uuid.UUID | None]
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)

    __table_args__ = (
        # Newest first, all of it or by each filter; the others are tested on the way.
        Index("ix_audit_log_created_at_id", "created_at", "id"),
        Index("ix_audit_log_actor_id_created_at_id", "actor_id", "created_at", "id"),
        Index("ix_audit_log_action_created_at_id", "action", "created_at", "id"),
        Index("ix_audit_log_target_type_created_at_id", "target_type", "created_at", "id"),
        Index("ix_audit_log_target_id_created_at_id", "target_id", "created_at", "id"),
    )
