"""media uploads

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 01:40:00.000000

Media assets are uploaded and processed: each has a status (UPLOADING, PROCESSING,
READY, FAILED, with the reason), the upload's offset and expiry, the worker's lease and
attempts, and may be derived from another asset (a poster, thumbnails: kind POSTER or
THUMBNAIL, `source_id`). The type and checksum are known once the bytes are. No release
wrote media assets before this revision, so the table is made anew rather than altered
(which SQLite would do by copying it anyway); downgrading makes the old one again.

Rows already there cross over each way through a temporary copy, with their ids: on
the way up each asset is READY with all its bytes uploaded; on the way down a finished
(READY) asset keeps its place, a poster as a thumbnail. Unfinished or failed uploads are
left out on the way down: they have no type or checksum yet, which the old table
requires, and the release that reads it has no uploads to finish.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_COMMON_COLUMNS = (
    "id, owner_id, content_id, storage_key, original_filename, mime_type, file_size, "
    "checksum_sha256, width, height, duration, details, created_at"
)
_CARRY_UP = f"""
INSERT INTO media_assets ({_COMMON_COLUMNS}, kind, status, upload_offset, updated_at)
SELECT {_COMMON_COLUMNS}, kind, 'READY', file_size, created_at FROM media_assets_carried
"""  # noqa: S608 (built from constants only)
_CARRY_DOWN = f"""
INSERT INTO media_assets ({_COMMON_COLUMNS}, kind)
SELECT {_COMMON_COLUMNS}, CASE kind WHEN 'POSTER' THEN 'THUMBNAIL' ELSE kind END
FROM media_assets_carried
WHERE status = 'READY' AND mime_type IS NOT NULL AND checksum_sha256 IS NOT NULL
"""  # noqa: S608 (built from constants only)


def _keep_rows() -> bool:
    """Copy the rows aside before the table goes; false when rendering SQL (`--sql`),
    where there are no rows to read."""
    if context.is_offline_mode():
        return False
    op.execute("CREATE TEMPORARY TABLE media_assets_carried AS SELECT * FROM media_assets")
    return True


def _put_back(carry: str) -> None:
    op.execute(carry)
    op.execute("DROP TABLE media_assets_carried")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _drop() -> None:
    op.drop_table("media_assets")


def _create(*elements: sa.schema.SchemaItem, uploads: bool) -> None:
    op.create_table(
        "media_assets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("content_id", sa.Uuid(), nullable=True),
        *elements,
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=True),
        sa.Column("mime_type", sa.String(length=100), nullable=uploads),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("checksum_sha256", sa.String(length=64), nullable=uploads),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Integer(), nullable=True),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["content_id"],
            ["content.id"],
            name=op.f("fk_media_assets_content_id_content"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_media_assets_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_assets")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_media_assets_storage_key")),
    )
    op.create_index(
        "ix_media_assets_content_id_created_at", "media_assets", ["content_id", "created_at"]
    )
    op.create_index(op.f("ix_media_assets_owner_id"), "media_assets", ["owner_id"])


def upgrade() -> None:
    kept = _keep_rows()
    _drop()
    _create(
        sa.Column("source_id", sa.Uuid(), nullable=True),
        sa.Column("kind", _enum("kind", "MEDIA", "THUMBNAIL", "POSTER"), nullable=False),
        sa.Column(
            "status",
            _enum("status", "UPLOADING", "PROCESSING", "READY", "FAILED"),
            nullable=False,
        ),
        sa.Column("failure", sa.String(length=500), nullable=True),
        sa.Column("upload_offset", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("upload_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("processing_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.current_timestamp(),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["media_assets.id"],
            name=op.f("fk_media_assets_source_id_media_assets"),
            ondelete="CASCADE",
        ),
        uploads=True,
    )
    op.create_index(op.f("ix_media_assets_source_id"), "media_assets", ["source_id"])
    op.create_index("ix_media_assets_status_created_at", "media_assets", ["status", "created_at"])
    if kept:
        _put_back(_CARRY_UP)


def downgrade() -> None:
    kept = _keep_rows()
    _drop()
    _create(sa.Column("kind", _enum("kind", "MEDIA", "THUMBNAIL"), nullable=False), uploads=False)
    if kept:
        _put_back(_CARRY_DOWN)
