"""view marks

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 17:40:00.000000

`view_marks`: when each viewer's view of an item was last counted, for views stored as
they are recorded (without Redis). Deduplication reads and moves a mark in one upsert
instead of looking for a recent view under an advisory lock. A new table (expand): the
index that lookup used (`views (content_id, viewer_hash, created_at)`) serves the
release before this one until it is gone, and goes in a later release's revision. The
table starts empty: a viewer counted just before the upgrade may be counted once more
within the dedup window.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "view_marks",
        sa.Column("content_id", sa.Uuid(), nullable=False),
        sa.Column("viewer_hash", sa.String(length=64), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content.id"],
            name=op.f("fk_view_marks_content_id_content"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("content_id", "viewer_hash", name=op.f("pk_view_marks")),
    )


def downgrade() -> None:
    op.drop_table("view_marks")
