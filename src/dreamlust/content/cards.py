"""Content cards: how every content list and the content detail are read and answered.

A card is one row: the columns `ContentRead` shows, the creator's summary joined, and the
item's categories and tags aggregated into JSON arrays by correlated subqueries, so a
page of any size (or one item) is ONE statement. The rows never become ORM objects and
the answer never goes through a response model: each row becomes a plain dict, and the
page is encoded once with orjson, in exactly the JSON that `ContentRead` describes (a
test holds the two to the same bytes). On a read-heavy platform this is the path nearly
every request takes, and object loading plus model validation would cost it several
times what the database does.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import orjson
from fastapi import Response
from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Enum,
    Numeric,
    Select,
    String,
    and_,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from dreamlust.content.entitlements import PremiumItem, access, unlocked
from dreamlust.content.schemas import ContentRead
from dreamlust.content.visibility import Viewer
from dreamlust.kit.clock import utcnow
from dreamlust.kit.compiled_once import Record
from dreamlust.kit.pagination import KeysetPage
from dreamlust.kit.preconditions import etag
from dreamlust.kit.types import Money, UTCDateTime
from dreamlust.models import Category, Content, Creator, Tag, content_categories, content_tags
from dreamlust.models.enums import SubscriptionTier

_COMPOSED = ("creator", "categories", "tags", "is_blurred", "is_locked")
COLUMN_FIELDS = tuple(name for name in ContentRead.model_fields if name not in _COMPOSED)
_CREATOR_FIELDS = ("id", "handle", "display_name", "avatar_url", "is_verified")
_CREATOR_PREFIX = "creator_"
_OWNER = "creator_user_id"
_FIELD_ORDER = tuple(ContentRead.model_fields)


def _categories(dialect: str) -> ColumnElement[Any]:
    """The item's live categories as a JSON array of {slug, name}, in display order."""
    joined = content_categories.join(Category, Category.id == content_categories.c.category_id)
    of_item = (content_categories.c.content_id == Content.id, Category.deleted_at.is_(None))
    if dialect == "postgresql":
        entry = func.json_build_object("slug", Category.slug, "name", Category.name)
        array = func.json_agg(aggregate_order_by(entry, Category.sort_order, Category.name))
        return (
            select(func.coalesce(array, literal_column("'[]'")))
            .select_from(joined)
            .where(*of_item)
            .scalar_subquery()
        )
    ordered = (
        select(Category.slug, Category.name)
        .select_from(joined)
        .where(*of_item)
        .order_by(Category.sort_order, Category.name)
        .correlate(Content)
        .subquery()
    )
    entry = func.json_object("slug", ordered.c.slug, "name", ordered.c.name)
    return select(func.json_group_array(entry)).scalar_subquery()


def _tags(dialect: str) -> ColumnElement[Any]:
    """The item's tag names as a JSON array, alphabetically."""
    joined = content_tags.join(Tag, Tag.id == content_tags.c.tag_id)
    of_item = content_tags.c.content_id == Content.id
    if dialect == "postgresql":
        array = func.json_agg(aggregate_order_by(Tag.name, Tag.name))
        return (
            select(func.coalesce(array, literal_column("'[]'")))
            .select_from(joined)
            .where(of_item)
            .scalar_subquery()
        )
    ordered = (
        select(Tag.name).select_from(joined).where(of_item).order_by(Tag.name).correlate(Content)
    ).subquery()
    return select(func.json_group_array(ordered.c.name)).scalar_subquery()


def _as_shown(type_: TypeEngine[Any]) -> TypeEngine[Any] | None:
    """The plain type a PostgreSQL card reads a column of `type_` as, if it differs.

    asyncpg already hands over what a card shows: enum values as text, aware UTC
    datetimes, Decimals of two places. Read through their mapped types, each such value
    of every row would be converted again (text to Enum and back to text in the JSON,
    UTC to UTC): nine conversions a row, about a fifth of the CPU of a page of 20. On
    SQLite the mapped types are what makes the values right, so they stay."""
    if isinstance(type_, Enum):
        return String()
    if isinstance(type_, UTCDateTime):
        return DateTime(timezone=True)
    if isinstance(type_, Money):
        return Numeric(12, 2, asdecimal=True)
    return None


def _column(name: str, dialect: str) -> ColumnElement[Any]:
    column = getattr(Content, name)
    plain = _as_shown(column.type) if dialect == "postgresql" else None
    return (column if plain is None else type_coerce(column, plain)).label(name)


def card_columns(dialect: str) -> list[ColumnElement[Any]]:
    """What a card selects; `select_cards` adds the join to the creator."""
    return [
        *(_column(name, dialect) for name in COLUMN_FIELDS),
        *(getattr(Creator, name).label(_CREATOR_PREFIX + name) for name in _CREATOR_FIELDS),
        Creator.user_id.label(_OWNER),
        type_coerce(_categories(dialect), JSON).label("categories"),
        type_coerce(_tags(dialect), JSON).label("tags"),
    ]


@functools.cache
def select_cards(dialect: str) -> Select[Any]:
    """Cards of live content with its live creator; callers add visibility, filters and
    order. Built once per dialect (a statement is immutable: each `.where()` makes a new
    one)."""
    return (
        select(*card_columns(dialect))
        .join_from(
            Content, Creator, and_(Creator.id == Content.creator_id, Creator.deleted_at.is_(None))
        )
        .where(Content.deleted_at.is_(None))
    )


def _premium(rows: Sequence[Record]) -> list[PremiumItem]:
    return [
        PremiumItem(
            row.id, row.creator_id, getattr(row, _OWNER), SubscriptionTier(row.premium_tier)
        )
        for row in rows
        if row.is_premium
    ]


def card(
    row: Record, viewer: Viewer, *, unlocked: bool, names: Sequence[str] | None = None
) -> dict[str, Any]:
    """The row as `ContentRead` shows it to this viewer: blurred, locked or whole
    (`names`: the row's column names, when the caller has them at hand)."""
    fields = dict(zip(names or row._fields, row, strict=True))
    blurred, locked = access(
        viewer,
        is_nsfw=fields["is_nsfw"],
        is_premium=fields["is_premium"],
        owner_id=fields[_OWNER],
        unlocked=unlocked,
    )
    fields["creator"] = {name: fields[_CREATOR_PREFIX + name] for name in _CREATOR_FIELDS}
    withhold(fields, blurred=blurred, locked=locked)
    # ContentRead's fields in its order, so the answer reads the same as the schema.
    return {name: fields[name] for name in _FIELD_ORDER}


def withhold(item: dict[str, Any], *, blurred: bool, locked: bool) -> None:
    """Take out of a card what this viewer may not have, and say so."""
    item["is_blurred"] = blurred
    item["is_locked"] = locked
    if blurred:  # the blur placeholder stands in for the picture and the media
        item["media_url"] = None
        item["thumbnail_url"] = None
        item["streaming_info"] = None
    if locked:
        item["media_url"] = None
        item["streaming_info"] = None


async def cards(
    session: AsyncSession, rows: Sequence[Record], viewer: Viewer
) -> list[dict[str, Any]]:
    if not rows:
        return []
    granted = await unlocked(session, viewer, _premium(rows), utcnow())
    names = rows[0]._fields
    return [card(row, viewer, unlocked=row.id in granted, names=names) for row in rows]


def _json_default(value: object) -> str:
    # Decimal money as text, like pydantic; asyncpg's own UUID subclass as text.
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_response(
    body: object, headers: Mapping[str, str] | None = None, *, status_code: int = 200
) -> Response:
    encoded = orjson.dumps(body, default=_json_default, option=orjson.OPT_UTC_Z)
    return Response(encoded, status_code, headers=headers, media_type="application/json")


async def page_response(
    session: AsyncSession, page: KeysetPage[Record], viewer: Viewer
) -> Response:
    """A page of cards as `Page[ContentRead]` JSON."""
    items = await cards(session, page.items, viewer)
    return json_response({"items": items, "next_cursor": page.next_cursor})


# An entry of a list that shows each card beside something of its own (when it was
# watched, its place in a playlist): made of the row and its card, in the entry's order.
Entry = Callable[[Record, dict[str, Any]], dict[str, Any]]


async def entries_response(
    session: AsyncSession, page: KeysetPage[Record], viewer: Viewer, entry: Entry
) -> Response:
    """A page of entries, each holding a card, as `Page[…]` JSON."""
    items = await cards(session, page.items, viewer)
    entries = [entry(row, item) for row, item in zip(page.items, items, strict=True)]
    return json_response({"items": entries, "next_cursor": page.next_cursor})


async def detail_response(
    session: AsyncSession, row: Record, viewer: Viewer, *, status_code: int = 200
) -> Response:
    """One card as `ContentRead` JSON, with its version as the ETag."""
    [item] = await cards(session, [row], viewer)
    return json_response(item, headers={"ETag": etag(row.version)}, status_code=status_code)
