"""notification events

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 23:15:00.000000

`notification_events` is the outbox of notifications: a cause writes its event in its
own transaction, and delivery turns it into notifications in batches. A notification
remembers the event it came from, and a user gets one per event (a unique index, which
SQLite adds without copying the table).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PENDING = sa.text("delivered_at IS NULL")
_TYPES = (
    "NEW_FOLLOWER",
    "NEW_SUBSCRIBER",
    "NEW_COMMENT",
    "NEW_REPLY",
    "NEW_LIKE",
    "NEW_UPLOAD",
    "CONTENT_APPROVED",
    "CONTENT_REJECTED",
    "PAYMENT_RECEIVED",
    "REPORT_RESOLVED",
    "SYSTEM_ANNOUNCEMENT",
    "MENTION",
)


def _enum(name: str, values: Sequence[str]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "notification_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", _enum("type", _TYPES), nullable=False),
        sa.Column(
            "audience", _enum("audience", ("USER", "FOLLOWERS", "EVERYONE", "ROLE")), nullable=False
        ),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("recipient_id", sa.Uuid(), nullable=True),
        sa.Column("creator_id", sa.Uuid(), nullable=True),
        sa.Column("role", _enum("role", ("USER", "CREATOR", "MODERATOR", "ADMIN")), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("link", sa.String(length=2048), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
            nullable=True,
        ),
        sa.Column("delivered_up_to", sa.Uuid(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_notification_events_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_events")),
    )
    op.create_index(
        "ix_notification_events_pending",
        "notification_events",
        ["created_at"],
        postgresql_where=_PENDING,
        sqlite_where=_PENDING,
    )
    if op.get_context().dialect.name == "sqlite":
        op.execute("ALTER TABLE notifications ADD COLUMN event_id CHAR(32)")
    else:
        op.add_column("notifications", sa.Column("event_id", sa.Uuid(), nullable=True))
    op.create_index(
        "uq_notifications_event_id_user_id",
        "notifications",
        ["event_id", "user_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_notifications_event_id_user_id", table_name="notifications")
    op.execute("ALTER TABLE notifications DROP COLUMN event_id")
    op.drop_index("ix_notification_events_pending", table_name="notification_events")
    op.drop_table("notification_events")
