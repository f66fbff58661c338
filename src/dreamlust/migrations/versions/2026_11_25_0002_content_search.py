"""content search index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 16:40:00.000000

The full-text index of content, written by hand (autogenerate cannot express it and
leaves it alone, see `dreamlust.migrate.include_name`). One document per content item:
its title (weight A), tag names (B), creator display name and handle (C) and
description (D). Existing content is indexed on the way up.

PostgreSQL: `content_search(content_id, document tsvector)` with a GIN index (no
pending list).
SQLite: `content_search_documents` keeps each item's text, keyed by content id with a
cascading foreign key; the FTS5 table `content_search` indexes it as external content,
kept in step by triggers.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_POSTGRESQL_BACKFILL = """
INSERT INTO content_search (content_id, document)
SELECT content.id,
       setweight(to_tsvector('simple', content.title), 'A')
       || setweight(to_tsvector('simple', coalesce(tag_names.names, '')), 'B')
       || setweight(to_tsvector('simple', creators.display_name || ' ' || creators.handle), 'C')
       || setweight(to_tsvector('simple', coalesce(content.description, '')), 'D')
FROM content
JOIN creators ON creators.id = content.creator_id
LEFT JOIN LATERAL (
    SELECT string_agg(tags.name, ' ') AS names
    FROM content_tags JOIN tags ON tags.id = content_tags.tag_id
    WHERE content_tags.content_id = content.id
) AS tag_names ON true
"""

_SQLITE_UPGRADE = (
    """
    CREATE TABLE content_search_documents (
        id INTEGER PRIMARY KEY,
        content_id CHAR(32) NOT NULL
            CONSTRAINT uq_content_search_documents_content_id UNIQUE
            CONSTRAINT fk_content_search_documents_content_id_content
            REFERENCES content (id) ON DELETE CASCADE,
        title TEXT NOT NULL,
        tags TEXT NOT NULL,
        creator TEXT NOT NULL,
        description TEXT NOT NULL
    )
    """,
    """
    CREATE VIRTUAL TABLE content_search USING fts5(
        title, tags, creator, description,
        content = 'content_search_documents',
        content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2',
        prefix = '2 3'
    )
    """,
    """
    CREATE TRIGGER content_search_documents_inserted
    AFTER INSERT ON content_search_documents BEGIN
        INSERT INTO content_search (rowid, title, tags, creator, description)
        VALUES (new.id, new.title, new.tags, new.creator, new.description);
    END
    """,
    """
    CREATE TRIGGER content_search_documents_deleted
    AFTER DELETE ON content_search_documents BEGIN
        INSERT INTO content_search (content_search, rowid, title, tags, creator, description)
        VALUES ('delete', old.id, old.title, old.tags, old.creator, old.description);
    END
    """,
    """
    CREATE TRIGGER content_search_documents_updated
    AFTER UPDATE ON content_search_documents BEGIN
        INSERT INTO content_search (content_search, rowid, title, tags, creator, description)
        VALUES ('delete', old.id, old.title, old.tags, old.creator, old.description);
        INSERT INTO content_search (rowid, title, tags, creator, description)
        VALUES (new.id, new.title, new.tags, new.creator, new.description);
    END
    """,
    """
    INSERT INTO content_search_documents (content_id, title, tags, creator, description)
    SELECT content.id,
           content.title,
           coalesce((
               SELECT group_concat(tags.name, ' ')
               FROM content_tags JOIN tags ON tags.id = content_tags.tag_id
               WHERE content_tags.content_id = content.id
           ), ''),
           creators.display_name || ' ' || creators.handle,
           coalesce(content.description, '')
    FROM content
    JOIN creators ON creators.id = content.creator_id
    """,
)


def _is_postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _is_postgresql():
        op.create_table(
            "content_search",
            sa.Column("content_id", sa.Uuid(), nullable=False),
            sa.Column("document", postgresql.TSVECTOR(), nullable=False),
            sa.ForeignKeyConstraint(
                ["content_id"],
                ["content.id"],
                name=op.f("fk_content_search_content_id_content"),
                ondelete="CASCADE",
            ),
            sa.PrimaryKeyConstraint("content_id", name=op.f("pk_content_search")),
        )
        # Without a pending list: content changes far less often than it is searched,
        # and a search then never scans unsorted pending entries.
        op.create_index(
            "ix_content_search_document",
            "content_search",
            ["document"],
            unique=False,
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        )
        op.execute(_POSTGRESQL_BACKFILL)
    else:
        for statement in _SQLITE_UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if _is_postgresql():
        op.drop_index(
            "ix_content_search_document", table_name="content_search", postgresql_using="gin"
        )
        op.drop_table("content_search")
    else:
        op.execute("DROP TABLE content_search")
        op.execute("DROP TABLE content_search_documents")
