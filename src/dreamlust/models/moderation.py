"""Reports against content, comments, users and creators, and the audit log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from dreamlust.kit.model import Base, CreatedAtMixin, IdMixin, TimestampMixin, VersionedMixin
from dreamlust.kit.types import JSONDocument, enum_type
from dreamlust.models.enums import ModerationAction, ReportStatus, ReportTargetType, ReportType

_OPEN = text("status IN ('PENDING', 'UNDER_REVIEW')")


class Report(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "reports"

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

    __table_args__ = (
        Index("ix_reports_reporter_id_created_at", "reporter_id", "created_at"),
        Index("ix_reports_target_type_target_id", "target_type", "target_id"),
        Index(
            "uq_reports_open_per_reporter_target",
            "reporter_id",
            "target_type",
            "target_id",
            unique=True,
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        ),
    )


class AuditLogEntry(IdMixin, CreatedAtMixin, Base):
    """Every moderator and admin action, kept for review."""

    __tablename__ = "audit_log"

    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[uuid.UUID | None]
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONDocument)

    __table_args__ = (
        Index("ix_audit_log_actor_id_created_at", "actor_id", "created_at"),
        Index("ix_audit_log_target_type_target_id", "target_type", "target_id"),
        Index("ix_audit_log_created_at", "created_at"),
    )
