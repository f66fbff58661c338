"""notification indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 23:00:00.000000

A user's notifications are read newest first, all of them or the unread ones alone,
each page in order from an index: (user_id, created_at, id), and the same over unread
rows only.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNREAD = sa.text("NOT is_read")
# SQLite matches a partial index to a query by the terms as written.
_UNREAD_ON_SQLITE = sa.text("is_read = 0")


def upgrade() -> None:
    op.drop_index("ix_notifications_user_id_is_read_created_at", table_name="notifications")
    op.drop_index("ix_notifications_user_id_created_at", table_name="notifications")
    op.create_index(
        "ix_notifications_user_id_created_at_id", "notifications", ["user_id", "created_at", "id"]
    )
    op.create_index(
        "ix_notifications_unread_user_id_created_at_id",
        "notifications",
        ["user_id", "created_at", "id"],
        postgresql_where=_UNREAD,
        sqlite_where=_UNREAD_ON_SQLITE,
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_unread_user_id_created_at_id", table_name="notifications")
    op.drop_index("ix_notifications_user_id_created_at_id", table_name="notifications")
    op.create_index(
        "ix_notifications_user_id_created_at", "notifications", ["user_id", "created_at"]
    )
    op.create_index(
        "ix_notifications_user_id_is_read_created_at",
        "notifications",
        ["user_id", "is_read", "created_at"],
    )
