"""The full-text index of content: one search document per item, rebuilt by `reindex`.

A document weights what it is made of: the title (A) above tag names (B) above the
creator's display name and handle (C) above the description (D). Its tables live beside
the content table and are created by hand in revision 0002:

- PostgreSQL: `content_search(content_id, document tsvector)` with a GIN index. The
  `simple` configuration lower-cases words without stemming or stop words: titles, tags
  and names are in any language, handles must stay whole, and prefix matching already
  finds "sunsets" from "sunset".
- SQLite: `content_search_documents` keeps each item's text; the FTS5 table
  `content_search` indexes it as external content (unicode61: no stemming either, but
  diacritics folded, which PostgreSQL could only do with the unaccent extension).

Each document row references its content item with ON DELETE CASCADE, so purging an
item removes its document. Soft-deleted items keep theirs: searches never show them
(visibility), and a restored item is found again at once.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    Uuid,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Content, Creator, Tag, content_tags

INDEX_TABLE = "content_search"
TEXT_SEARCH_CONFIG = literal("simple", postgresql.REGCONFIG)

POSTGRESQL_INDEX = table(
    INDEX_TABLE, column("content_id", Uuid), column("document", postgresql.TSVECTOR)
)
SQLITE_DOCUMENTS = table(
    f"{INDEX_TABLE}_documents",
    column("id", Integer),
    column("content_id", Uuid),
    column("title", Text),
    column("tags", Text),
    column("creator", Text),
    column("description", Text),
)
# The FTS5 table: `rowid` is a document's id; the column named after the table stands
# for the whole document in MATCH and in ranking functions.
SQLITE_INDEX = table(INDEX_TABLE, column("rowid", Integer), column(INDEX_TABLE, Text))
_PARTS = ("title", "tags", "creator", "description")
# setweight() takes a "char", which no bound parameter is: the weights are SQL constants.
_WEIGHTS: dict[str, ColumnElement[str]] = {
    part: literal_column(f"'{weight}'") for part, weight in zip(_PARTS, "ABCD", strict=True)
}


def is_index_table(name: str) -> bool:
    """Whether a table belongs to the search index (FTS5 adds shadow tables of its own)."""
    return name == INDEX_TABLE or name.startswith(f"{INDEX_TABLE}_")


async def reindex(session: AsyncSession, content_ids: list[uuid.UUID]) -> None:
    """Rebuild the search documents of these content items."""
    if content_ids:
        await _write(session, Content.id.in_(content_ids))


async def reindex_creator(session: AsyncSession, creator_id: uuid.UUID) -> None:
    """Rebuild the documents of all of a creator's content (after a change of name)."""
    await _write(session, Content.creator_id == creator_id)


async def rebuild(session: AsyncSession) -> None:
    """Rebuild every document (after a bulk load that bypassed the services)."""
    await _write(session, true())


def _sources(condition: ColumnElement[bool]) -> Select[uuid.UUID, str, Any, str, str]:
    """The text of each matching item, one labeled column per part of its document."""
    tag_names = (
        select(func.aggregate_strings(Tag.name, " "))
        .select_from(content_tags)
        .join(Tag, Tag.id == content_tags.c.tag_id)
        .where(content_tags.c.content_id == Content.id)
        .scalar_subquery()
    )
    return (
        select(
            Content.id.label("content_id"),
            Content.title.label("title"),
            func.coalesce(tag_names, "").label("tags"),
            (Creator.display_name + " " + Creator.handle).label("creator"),
            func.coalesce(Content.description, "").label("description"),
        )
        .join(Creator, Creator.id == Content.creator_id)
        .where(condition)
    )


async def _write(session: AsyncSession, condition: ColumnElement[bool]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        await _write_postgresql(session, condition)
    else:
        await _write_sqlite(session, condition)


async def _write_postgresql(session: AsyncSession, condition: ColumnElement[bool]) -> None:
    source = _sources(condition).subquery()
    weighted = [
        func.setweight(
            func.to_tsvector(TEXT_SEARCH_CONFIG, source.c[part]),
            _WEIGHTS[part],
            type_=postgresql.TSVECTOR,
        )
        for part in _PARTS
    ]
    document: ColumnElement[Any] = weighted[0]
    for part in weighted[1:]:
        document = document.op("||", return_type=postgresql.TSVECTOR)(part)
    insert = postgresql.insert(POSTGRESQL_INDEX).from_select(
        ["content_id", "document"], select(source.c.content_id, document)
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["content_id"], set_={"document": insert.excluded.document}
        )
    )


async def _write_sqlite(session: AsyncSession, condition: ColumnElement[bool]) -> None:
    # Triggers on the documents table carry each insert and update into the FTS5 index.
    insert = sqlite.insert(SQLITE_DOCUMENTS).from_select(
        ["content_id", *_PARTS], _sources(condition)
    )
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["content_id"],
            set_={part: insert.excluded[part] for part in _PARTS},
        )
    )
