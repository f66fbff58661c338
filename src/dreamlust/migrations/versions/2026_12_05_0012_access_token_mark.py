"""access token mark

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 10:00:00.000000

`users.tokens_valid_after`: the access tokens an account was issued before this moment
are refused (signing out, a password reset, a suspension … set it). A nullable column
without a default: adding it rewrites nothing and takes the table's lock only for an
instant; no row needs a value (NULL refuses nothing). On SQLite both directions are a
plain ALTER TABLE, never a copy of a table that others reference.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("tokens_valid_after", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("users", "tokens_valid_after")
