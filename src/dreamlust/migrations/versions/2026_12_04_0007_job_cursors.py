"""job cursors

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 23:40:00.000000

Where a worker job that reads a table in order has got to: the likes job keeps its
place in the likes there.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_cursors",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("position_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_cursors")),
    )


def downgrade() -> None:
    op.drop_table("job_cursors")
