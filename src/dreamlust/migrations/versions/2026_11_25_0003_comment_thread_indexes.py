"""comment thread indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 17:10:00.000000

Every comment list reads its page in order from an index: top-level comments of an item
(pinned first, then newest or most liked) from two partial indexes over top-level rows,
replies from (parent_id, created_at, id). A partial unique index keeps an item to one
pinned comment.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TOP_LEVEL = sa.text("parent_id IS NULL")
_PINNED = sa.text("is_pinned")


def upgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_index("ix_comments_content_id_is_pinned_created_at")
        batch.drop_index("ix_comments_parent_id_created_at")
        batch.create_index(
            "ix_comments_top_level_newest",
            ["content_id", "is_pinned", "created_at", "id"],
            postgresql_where=_TOP_LEVEL,
            sqlite_where=_TOP_LEVEL,
        )
        batch.create_index(
            "ix_comments_top_level_top",
            ["content_id", "is_pinned", "like_count", "created_at", "id"],
            postgresql_where=_TOP_LEVEL,
            sqlite_where=_TOP_LEVEL,
        )
        batch.create_index("ix_comments_parent_id_created_at_id", ["parent_id", "created_at", "id"])
        batch.create_index(
            "uq_comments_content_id_pinned",
            ["content_id"],
            unique=True,
            postgresql_where=_PINNED,
            sqlite_where=_PINNED,
        )


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_index("uq_comments_content_id_pinned")
        batch.drop_index("ix_comments_parent_id_created_at_id")
        batch.drop_index("ix_comments_top_level_top")
        batch.drop_index("ix_comments_top_level_newest")
        batch.create_index("ix_comments_parent_id_created_at", ["parent_id", "created_at"])
        batch.create_index(
            "ix_comments_content_id_is_pinned_created_at",
            ["content_id", "is_pinned", "created_at"],
        )
