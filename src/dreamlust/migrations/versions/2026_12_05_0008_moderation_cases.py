"""moderation cases, reporter records, an append-only audit log

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 00:30:00.000000

- `moderation_cases` group the open reports on one target for one decision (at most one
  open case per target); the queue reads them by score from an index.
- `reports` learn their case, the weight of their reporter's track record, and a
  snapshot of the target. Reports already there become cases: the open reports on a
  target one case (UNDER_REVIEW when any of them was), each closed report a case of its
  own; they weigh what a report without history weighs.
- `reporter_records` count each reporter's closed and upheld reports, from the closed
  reports already there.
- Reports are listed per reporter and per case, and the audit log newest first, all of
  it or by actor, action, target type or target: each from an index ending in
  (created_at, id).
- Triggers on both databases refuse every UPDATE and DELETE of `audit_log`, but the
  UPDATE the foreign key makes when the actor's account is deleted for good.

SQLite adds a NOT NULL foreign key column only by copying the table: `reports` is
copied once (no table references it, so nothing cascades from the copy).
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
import uuid_utils.compat
from alembic import context, op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN = sa.text("status IN ('PENDING', 'UNDER_REVIEW')")
_OPEN_STATUSES = ("PENDING", "UNDER_REVIEW")
_STATUSES = ("PENDING", "UNDER_REVIEW", "RESOLVED", "DISMISSED", "ACTION_TAKEN")
_ACTIONS = ("NONE", "HIDE_CONTENT", "DELETE_COMMENT", "SUSPEND_USER", "BAN_USER")
_TARGET_TYPES = ("CONTENT", "COMMENT", "USER", "CREATOR")
# SQLite's copy of `reports` reflects that table alone, not those it refers to.
_ONLY_REPORTS = {"resolve_fks": False}
# What a report weighs when its reporter has no closed reports (moderation.track_record).
_NO_HISTORY_WEIGHT = 20

_POSTGRESQL_TRIGGER = (
    """
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
        AND OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
        AND (NEW.id, NEW.action, NEW.target_type, NEW.target_id, NEW.created_at)
            IS NOT DISTINCT FROM
            (OLD.id, OLD.action, OLD.target_type, OLD.target_id, OLD.created_at)
        AND NEW.details IS NOT DISTINCT FROM OLD.details
        AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = OLD.actor_id)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$
""",
    """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
""",
)
_SQLITE_TRIGGERS = (
    """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (
    OLD.actor_id IS NOT NULL AND NEW.actor_id IS NULL
    AND NEW.id IS OLD.id AND NEW.action IS OLD.action AND NEW.target_type IS OLD.target_type
    AND NEW.target_id IS OLD.target_id AND NEW.details IS OLD.details
    AND NEW.created_at IS OLD.created_at
    AND NOT EXISTS (SELECT 1 FROM users WHERE users.id = OLD.actor_id)
)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END
""",
    """
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END
""",
)

_AUDIT_INDEXES_BEFORE = {
    "ix_audit_log_actor_id_created_at": ["actor_id", "created_at"],
    "ix_audit_log_target_type_target_id": ["target_type", "target_id"],
    "ix_audit_log_created_at": ["created_at"],
}
_AUDIT_INDEXES_AFTER = {
    "ix_audit_log_created_at_id": ["created_at", "id"],
    "ix_audit_log_actor_id_created_at_id": ["actor_id", "created_at", "id"],
    "ix_audit_log_action_created_at_id": ["action", "created_at", "id"],
    "ix_audit_log_target_type_created_at_id": ["target_type", "created_at", "id"],
    "ix_audit_log_target_id_created_at_id": ["target_id", "created_at", "id"],
}


def _enum(name: str, values: Sequence[str]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _is_sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def upgrade() -> None:
    _create_cases()
    op.create_table(
        "reporter_records",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("closed_reports", sa.Integer(), server_default="0", nullable=False),
        sa.Column("upheld_reports", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_reporter_records_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_reporter_records")),
    )
    op.add_column("reports", sa.Column("case_id", sa.Uuid(), nullable=True))
    op.add_column("reports", sa.Column("weight", sa.Integer(), nullable=True))
    op.add_column(
        "reports",
        sa.Column(
            "snapshot",
            sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
    )
    _open_cases_for_existing_reports()
    _count_existing_records()
    with op.batch_alter_table("reports", reflect_kwargs=_ONLY_REPORTS) as batch:
        batch.alter_column("case_id", existing_type=sa.Uuid(), nullable=False)
        batch.alter_column("weight", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(
            op.f("fk_reports_case_id_moderation_cases"),
            "moderation_cases",
            ["case_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.drop_index("ix_reports_reporter_id_created_at", table_name="reports")
    op.create_index(
        "ix_reports_reporter_id_created_at_id", "reports", ["reporter_id", "created_at", "id"]
    )
    op.create_index("ix_reports_case_id_created_at_id", "reports", ["case_id", "created_at", "id"])

    for name in _AUDIT_INDEXES_BEFORE:
        op.drop_index(name, table_name="audit_log")
    for name, columns in _AUDIT_INDEXES_AFTER.items():
        op.create_index(name, "audit_log", columns)
    for statement in _SQLITE_TRIGGERS if _is_sqlite() else _POSTGRESQL_TRIGGER:
        op.execute(statement)


def _create_cases() -> None:
    op.create_table(
        "moderation_cases",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("target_type", _enum("target_type", _TARGET_TYPES), nullable=False),
        sa.Column("target_id", sa.Uuid(), nullable=False),
        sa.Column("status", _enum("status", _STATUSES), nullable=False),
        sa.Column("action", _enum("action", _ACTIONS), nullable=True),
        sa.Column("report_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("score", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("auto_hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_cases")),
    )
    op.create_index(
        "uq_moderation_cases_open_target",
        "moderation_cases",
        ["target_type", "target_id"],
        unique=True,
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )
    op.create_index(
        "ix_moderation_cases_open_score_id",
        "moderation_cases",
        ["score", "id"],
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )
    op.create_index(
        "ix_moderation_cases_status_score_id", "moderation_cases", ["status", "score", "id"]
    )


_REPORTS = sa.table(
    "reports",
    sa.column("id", sa.Uuid()),
    sa.column("case_id", sa.Uuid()),
    sa.column("target_type", sa.String()),
    sa.column("target_id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("action", sa.String()),
    sa.column("weight", sa.Integer()),
    sa.column("resolved_at", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)
_CASES = sa.table(
    "moderation_cases",
    sa.column("id", sa.Uuid()),
    sa.column("target_type", sa.String()),
    sa.column("target_id", sa.Uuid()),
    sa.column("status", sa.String()),
    sa.column("action", sa.String()),
    sa.column("report_count", sa.Integer()),
    sa.column("score", sa.BigInteger()),
    sa.column("closed_at", sa.DateTime(timezone=True)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _open_cases_for_existing_reports() -> None:
    if context.is_offline_mode():
        return  # rendering SQL (`--sql`): there are no rows to read
    connection = op.get_bind()
    reports = connection.execute(
        sa.select(_REPORTS).order_by(_REPORTS.c.created_at, _REPORTS.c.id)
    ).all()
    groups: defaultdict[object, list[sa.Row[object]]] = defaultdict(list)
    for report in reports:
        opened = report.status in _OPEN_STATUSES
        groups[(report.target_type, report.target_id) if opened else report.id].append(report)
    cases: list[dict[str, object]] = []
    assignments: list[dict[str, object]] = []
    for members in groups.values():
        case_id = uuid_utils.compat.uuid7()
        statuses = {member.status for member in members}
        status = "UNDER_REVIEW" if "UNDER_REVIEW" in statuses else members[0].status
        first = members[0]
        last_change: datetime = max(member.updated_at for member in members)
        cases.append(
            {
                "id": case_id,
                "target_type": first.target_type,
                "target_id": first.target_id,
                "status": status,
                "action": first.action if status not in _OPEN_STATUSES else None,
                "report_count": len(members),
                "score": _NO_HISTORY_WEIGHT * len(members),
                "closed_at": (
                    None if status in _OPEN_STATUSES else first.resolved_at or first.updated_at
                ),
                "created_at": first.created_at,
                "updated_at": last_change,
            }
        )
        assignments += [
            {"report_id": member.id, "case": case_id, "new_status": status} for member in members
        ]
    if cases:
        connection.execute(_CASES.insert(), cases)
        connection.execute(
            _REPORTS.update()
            .where(_REPORTS.c.id == sa.bindparam("report_id"))
            .values(
                case_id=sa.bindparam("case"),
                status=sa.bindparam("new_status"),
                weight=_NO_HISTORY_WEIGHT,
            ),
            assignments,
        )


def _count_existing_records() -> None:
    op.execute(
        """
        INSERT INTO reporter_records (user_id, closed_reports, upheld_reports)
        SELECT reporter_id,
               COUNT(*),
               SUM(CASE WHEN status IN ('RESOLVED', 'ACTION_TAKEN') THEN 1 ELSE 0 END)
        FROM reports
        WHERE reporter_id IS NOT NULL AND status IN ('RESOLVED', 'DISMISSED', 'ACTION_TAKEN')
        GROUP BY reporter_id
        """
    )


def downgrade() -> None:
    if _is_sqlite():
        op.execute("DROP TRIGGER audit_log_no_delete")
        op.execute("DROP TRIGGER audit_log_no_update")
    else:
        op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    for name in _AUDIT_INDEXES_AFTER:
        op.drop_index(name, table_name="audit_log")
    for name, columns in _AUDIT_INDEXES_BEFORE.items():
        op.create_index(name, "audit_log", columns)

    op.drop_index("ix_reports_case_id_created_at_id", table_name="reports")
    op.drop_index("ix_reports_reporter_id_created_at_id", table_name="reports")
    op.create_index("ix_reports_reporter_id_created_at", "reports", ["reporter_id", "created_at"])
    with op.batch_alter_table("reports", reflect_kwargs=_ONLY_REPORTS) as batch:
        batch.drop_constraint(op.f("fk_reports_case_id_moderation_cases"), type_="foreignkey")
        batch.drop_column("snapshot")
        batch.drop_column("weight")
        batch.drop_column("case_id")
    op.drop_table("reporter_records")
    op.drop_index("ix_moderation_cases_status_score_id", table_name="moderation_cases")
    op.drop_index("ix_moderation_cases_open_score_id", table_name="moderation_cases")
    op.drop_index("uq_moderation_cases_open_target", table_name="moderation_cases")
    op.drop_table("moderation_cases")
