"""The baseline: a minimal Starlette + asyncpg app serving dreamlust's anonymous read path.

For GET /api/v1/content (latest, popular, trending), /content/trending, /content/{id} and
/search it sends PostgreSQL the very statements dreamlust's SQLAlchemy layer sends for an
anonymous viewer (captured with bench/sql_capture.py; bench/run.py re-checks them on
every run):

    content JOIN creators (search: JOIN the ranked hits too), visibility filter,
        keyset ORDER BY … LIMIT 21            (detail: WHERE content.id = $3)
        with categories and tags as JSON arrays from correlated subqueries

one statement, outside any transaction (dreamlust reads in autocommit on PostgreSQL),

and answers with the same JSON (`{"items": [...], "next_cursor": ...}`, ContentRead's
fields in the same order), encoded with orjson. `next_cursor` is made exactly the way
dreamlust makes it (HMAC-signed keyset values, same key derivation), so with the same
`DREAMLUST_SECRET_KEY` both servers return the same bodies and accept each other's
cursors; bench/run.py checks that before measuring anything.

Run (as bench/run.py does):
    BENCH_DATABASE_URL=postgresql://… DREAMLUST_SECRET_KEY=… \
    uvicorn baseline_app:app --app-dir bench --loop uvloop --http httptools --workers 2
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import unicodedata
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

import asyncpg
import jwt
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_SIGNATURE_BYTES = 16
# The same pool per process as dreamlust's defaults (pool_size 10 + max_overflow 10).
POOL_MIN = int(os.environ.get("BENCH_POOL_MIN", "10"))
POOL_MAX = int(os.environ.get("BENCH_POOL_MAX", "20"))

PUBLISHED = "PUBLISHED"
APPROVED = "APPROVED"

# --- The SQL, verbatim as dreamlust emits it (SQLAlchemy 2.1, asyncpg dialect) -----------

# A card: ContentRead's columns, the creator's summary, categories and tags as JSON arrays.
_CARD_COLUMNS = (
    "content.id AS id, content.title AS title, content.description AS description, "
    "content.type AS type, content.status AS status, content.media_url AS media_url, "
    "content.thumbnail_url AS thumbnail_url, content.blur_placeholder AS blur_placeholder, "
    "content.media_type AS media_type, content.duration AS duration, "
    "content.file_size AS file_size, content.width AS width, content.height AS height, "
    "content.vr_projection AS vr_projection, content.vr_stereo_format AS vr_stereo_format, "
    "content.streaming_info AS streaming_info, "
    "content.view_count AS view_count, content.like_count AS like_count, "
    "content.comment_count AS comment_count, content.share_count AS share_count, "
    "content.is_public AS is_public, content.is_nsfw AS is_nsfw, "
    "content.age_restricted AS age_restricted, content.allow_comments AS allow_comments, "
    "content.allow_downloads AS allow_downloads, content.is_premium AS is_premium, "
    "content.price AS price, content.currency AS currency, "
    "content.premium_tier AS premium_tier, "
    "content.published_at AS published_at, content.scheduled_at AS scheduled_at, "
    "content.created_at AS created_at, content.updated_at AS updated_at, "
    "content.version AS version, creators.id AS creator_id, "
    "creators.handle AS creator_handle, creators.display_name AS creator_display_name, "
    "creators.avatar_url AS creator_avatar_url, creators.is_verified AS creator_is_verified, "
    "creators.user_id AS creator_user_id, "
    "(SELECT coalesce(json_agg(json_build_object($1::VARCHAR, categories.slug, "
    "$2::VARCHAR, categories.name) ORDER BY categories.sort_order, categories.name), '[]') "
    "AS coalesce_1 \nFROM content_categories JOIN categories "
    "ON categories.id = content_categories.category_id \n"
    "WHERE content_categories.content_id = content.id AND categories.deleted_at IS NULL) "
    "AS categories, "
    "(SELECT coalesce(json_agg(tags.name ORDER BY tags.name), '[]') AS coalesce_2 \n"
    "FROM content_tags JOIN tags ON tags.id = content_tags.tag_id \n"
    "WHERE content_tags.content_id = content.id) AS tags"
)
_JSON_KEYS = ("slug", "name")  # $1 and $2
_FROM = (
    " \nFROM content JOIN creators ON creators.id = content.creator_id "
    "AND creators.deleted_at IS NULL "
)
# `visibility.listed()` for an anonymous viewer: published, public, past its publish
# time, from an approved live creator, neither NSFW nor age-restricted.
_LISTED = (
    "content.deleted_at IS NULL AND content.status = ${0} AND content.is_public IS true "
    "AND content.published_at <= ${1}::TIMESTAMP WITH TIME ZONE "
    "AND (EXISTS (SELECT creators.id \nFROM creators \n"
    "WHERE creators.id = content.creator_id AND creators.status = ${2} "
    "AND creators.deleted_at IS NULL)) "
    "AND content.is_nsfw IS false AND content.age_restricted IS false"
)
DETAIL_SQL = (
    f"SELECT {_CARD_COLUMNS}{_FROM}\nWHERE {_LISTED.format(3, 4, 5)} AND content.id = $6::UUID"
)

# GET /search: the newest 200 full-text matches (search/query.py): those among the newest
# 5,000 documents when 200 of them match; else those among the newest 50,000 when 20 of
# the 5,000 matched and 200 of the 50,000 do; else those of all documents. Ranked by
# ts_rank, then `listed()`; keyset on (rank, id). The query's terms are written into the
# SQL, so that each search is planned for its own words.
_SEARCH_WEIGHTS = (0.1, 0.2, 0.4, 1.0)
_SEARCH_MATCH = "document @@ to_tsquery($7::REGCONFIG, {terms})"


def _newest_matches(name: str, documents: int) -> str:
    return (
        f"{name} AS MATERIALIZED \n(SELECT {name}_documents.content_id AS content_id, "
        f"{name}_documents.document AS document \nFROM (SELECT content_search.content_id "
        "AS content_id, content_search.document AS document \nFROM content_search "
        f"ORDER BY content_search.content_id DESC \n LIMIT {documents}) AS {name}_documents \n"
        f"WHERE {name}_documents.{_SEARCH_MATCH} "
        f"ORDER BY {name}_documents.content_id DESC \n LIMIT 200)"
    )


def _count(name: str, label: str) -> str:
    return f"(SELECT count(*) AS {label} \nFROM {name})"


_IN_RECENT = _count("recent_matches", "count_1")
_IN_WIDE = _count("wide_matches", "count_2")
_SEARCH_CANDIDATES = (
    f"WITH {_newest_matches('recent_matches', 5000)}, \n"
    f"{_newest_matches('wide_matches', 50000)}, \n"
    "candidates AS MATERIALIZED \n(SELECT recent_matches.content_id AS content_id, "
    "recent_matches.document AS document \nFROM recent_matches \n"
    f"WHERE {_IN_RECENT} = 200 UNION ALL SELECT wide_matches.content_id AS content_id, "
    "wide_matches.document AS document \nFROM wide_matches \n"
    f"WHERE {_IN_RECENT} < 200 AND {_IN_RECENT} >= 20 AND {_IN_WIDE} = 200 "
    "UNION ALL (SELECT content_search.content_id AS content_id, "
    "content_search.document AS document \nFROM content_search \n"
    f"WHERE (content_search.{_SEARCH_MATCH}) AND {_IN_RECENT} < 200 "
    f"AND ({_IN_RECENT} < 20 OR {_IN_WIDE} < 200) "
    "ORDER BY content_search.content_id DESC \n LIMIT 200))\n "
)
_SEARCH_JOIN = (
    "JOIN (SELECT candidates.content_id AS content_id, "
    "ts_rank(CAST(ARRAY[$3::FLOAT, $4::FLOAT, $5::FLOAT, $6::FLOAT] AS REAL[]), "
    "candidates.document, to_tsquery($7::REGCONFIG, {terms})) AS rank "
    "\nFROM candidates ORDER BY rank DESC, candidates.content_id DESC) AS hits "
    "ON hits.content_id = content.id "
)


def search_sql(*, after: bool) -> str:
    """The statement of a search, with `{terms}` where its quoted terms go."""
    keyset = "AND (hits.rank, hits.content_id) < ($11::FLOAT, $12::UUID) " if after else ""
    return (
        f"{_SEARCH_CANDIDATES}SELECT {_CARD_COLUMNS}, hits.rank, hits.content_id"
        f"{_FROM}{_SEARCH_JOIN}"
        f"\nWHERE {_LISTED.format(8, 9, 10)} {keyset}"
        f"ORDER BY hits.rank DESC, hits.content_id DESC \n LIMIT ${13 if after else 11}::INTEGER"
    )


@dataclass(frozen=True)
class Ordering:
    """One keyset ordering: its cursor scope and sort key, as SQL and as a row key."""

    scope: str
    column: str  # the SQL sort column; the row carries it under its bare name
    cast: str
    from_json: Callable[[Any], Any]
    id_key: str = "id"
    shown: bool = True  # a card shows the sort key; if not, it is selected after the card

    @property
    def key(self) -> str:
        return self.column.rsplit(".", 1)[1]

    @cached_property
    def first_page(self) -> str:
        return self._sql(after=False)

    @cached_property
    def next_page(self) -> str:
        return self._sql(after=True)

    def _sql(self, *, after: bool) -> str:
        keyset = f" AND ({self.column}, content.id) < ($6::{self.cast}, $7::UUID)" if after else ""
        columns = _CARD_COLUMNS if self.shown else f"{_CARD_COLUMNS}, {self.column}"
        return (
            f"SELECT {columns}{_FROM}\nWHERE {_LISTED.format(3, 4, 5)}{keyset} "
            f"ORDER BY {self.column} DESC, content.id DESC \n"
            f" LIMIT ${8 if after else 6}::INTEGER"
        )


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    return float(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("not an integer")
    return value


LATEST = Ordering(
    "content:latest", "content.published_at", "TIMESTAMP WITH TIME ZONE", datetime.fromisoformat
)
POPULAR = Ordering("content:popular", "content.view_count", "BIGINT", _integer)
TRENDING = {
    window: Ordering(
        f"content:trending:{window}", f"content.trending_{window}", "FLOAT", _number, shown=False
    )
    for window in ("24h", "7d", "30d")
}
SORTS = {"latest": LATEST, "popular": POPULAR, "trending": TRENDING["24h"]}
_SEARCH_FIRST_PAGE = search_sql(after=False)
_SEARCH_NEXT_PAGE = search_sql(after=True)
_MAX_QUERY_LENGTH = 1000
_MAX_TERMS = 16
_MAX_TERM_LENGTH = 64


def search_terms(text: str) -> tuple[str, ...]:
    """dreamlust's SearchQuery.parse: runs of letters, marks and digits, lower-cased."""
    spaced = "".join(
        char if unicodedata.category(char)[0] in "LMN" else " "
        for char in unicodedata.normalize("NFC", text)
    )
    words = (
        word[:_MAX_TERM_LENGTH].lower()
        for word in spaced.split()
        if any(unicodedata.category(char)[0] in "LN" for char in word)
    )
    return tuple(dict.fromkeys(words))[:_MAX_TERMS]


def search_statements(terms: tuple[str, ...]) -> tuple[str, str]:
    """The statements of a search for the first page and the next ones, as dreamlust
    writes them: the terms as a quoted `to_tsquery` literal."""
    tsquery = " & ".join(f"{term}:*" for term in terms).replace("'", "''")
    return (
        _SEARCH_FIRST_PAGE.replace("{terms}", f"'{tsquery}'"),
        _SEARCH_NEXT_PAGE.replace("{terms}", f"'{tsquery}'"),
    )


def search_ordering(terms: tuple[str, ...]) -> Ordering:
    fingerprint = hashlib.sha256(" ".join(terms).encode()).hexdigest()
    return Ordering(f"content:search:{fingerprint}", "hits.rank", "FLOAT", _number, "content_id")


# --- Cursors: dreamlust's format (kit/pagination.py) ------------------------------------


class BadRequest(Exception):
    pass


class Cursors:
    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"dreamlust:cursor", hashlib.sha256).digest()

    def _sign(self, scope: str, payload: bytes) -> bytes:
        message = scope.encode() + b"\x00" + payload
        return hmac.new(self._key, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, ordering: Ordering, key: Any, id_: uuid.UUID) -> str:
        first = key.isoformat() if isinstance(key, datetime) else key
        payload = orjson.dumps([first, str(id_)])
        return (
            base64.urlsafe_b64encode(self._sign(ordering.scope, payload) + payload)
            .rstrip(b"=")
            .decode()
        )

    def decode(self, ordering: Ordering, cursor: str) -> tuple[Any, uuid.UUID]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError) as exc:
            raise BadRequest("The cursor is malformed.") from exc
        signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, self._sign(ordering.scope, payload)):
            raise BadRequest("The cursor is not valid for this list.")
        try:
            key, id_ = orjson.loads(payload)
            return ordering.from_json(key), uuid.UUID(id_)
        except (ValueError, TypeError) as exc:
            raise BadRequest("The cursor is malformed.") from exc


# --- JSON: ContentRead as an anonymous viewer gets it ----------------------------------


def _default(value: Any) -> str:
    # asyncpg hands back its own UUID subclass, which orjson leaves to `default`.
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = orjson.dumps(body, default=_default, option=orjson.OPT_UTC_Z)
    return Response(content, status, headers, media_type="application/json")


def _problem(status: int, title: str, detail: str) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return Response(orjson.dumps(body), status, media_type="application/problem+json")


def _fragment(text: str | None) -> orjson.Fragment | None:
    return None if text is None else orjson.Fragment(text)


def _item(row: asyncpg.Record, unlocked: frozenset[uuid.UUID] = frozenset()) -> dict[str, Any]:
    # Anonymous viewers (and the feed's viewer, who hides NSFW) never see NSFW, so never
    # blurred; premium items come locked, without their media, unless `unlocked` (bought
    # or included in a subscription). Categories and tags arrive as JSON text and go out
    # as they are.
    locked = row["is_premium"] and row["id"] not in unlocked
    return {
        "id": row["id"],
        "title": row["title"],
        "description": row["description"],
        "type": row["type"],
        "status": row["status"],
        "creator": {
            "id": row["creator_id"],
            "handle": row["creator_handle"],
            "display_name": row["creator_display_name"],
            "avatar_url": row["creator_avatar_url"],
            "is_verified": row["creator_is_verified"],
        },
        "categories": orjson.Fragment(row["categories"]),
        "tags": orjson.Fragment(row["tags"]),
        "media_url": None if locked else row["media_url"],
        "thumbnail_url": row["thumbnail_url"],
        "blur_placeholder": row["blur_placeholder"],
        "media_type": row["media_type"],
        "duration": row["duration"],
        "file_size": row["file_size"],
        "width": row["width"],
        "height": row["height"],
        "vr_projection": row["vr_projection"],
        "vr_stereo_format": row["vr_stereo_format"],
        "streaming_info": None if locked else _fragment(row["streaming_info"]),
        "view_count": row["view_count"],
        "like_count": row["like_count"],
        "comment_count": row["comment_count"],
        "share_count": row["share_count"],
        "is_public": row["is_public"],
        "is_nsfw": row["is_nsfw"],
        "age_restricted": row["age_restricted"],
        "allow_comments": row["allow_comments"],
        "allow_downloads": row["allow_downloads"],
        "is_premium": row["is_premium"],
        "price": row["price"],
        "currency": row["currency"],
        "premium_tier": row["premium_tier"],
        "published_at": row["published_at"],
        "scheduled_at": row["scheduled_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
        "is_blurred": False,
        "is_locked": locked,
    }


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", str(DEFAULT_LIMIT))
    try:
        limit = int(raw)
    except ValueError as exc:
        raise BadRequest("limit must be an integer") from exc
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}")
    return limit


async def _page(
    request: Request, ordering: Ordering, sql: tuple[str, str], params: Sequence[Any]
) -> Response:
    """A keyset page: `sql` is the statement for the first page and for the next ones."""
    try:
        limit = _limit(request)
        cursor = request.query_params.get("cursor")
        after = cursors(request).decode(ordering, cursor) if cursor else ()
    except BadRequest as exc:
        return _problem(400, "Bad Request", str(exc))
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as conn:
        rows = await conn.fetch(sql[1] if after else sql[0], *params, *after, limit + 1)
    items = [_item(row) for row in rows]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = cursors(request).encode(ordering, last[ordering.key], last[ordering.id_key])
    return _json({"items": items[:limit], "next_cursor": next_cursor})


async def _listing(request: Request, ordering: Ordering) -> Response:
    params = (*_JSON_KEYS, PUBLISHED, datetime.now(UTC), APPROVED)
    return await _page(request, ordering, (ordering.first_page, ordering.next_page), params)


def cursors(request: Request) -> Cursors:
    codec: Cursors = request.app.state.cursors
    return codec


async def list_content(request: Request) -> Response:
    ordering = SORTS.get(request.query_params.get("sort", "latest"))
    if ordering is None:
        return _problem(422, "Unprocessable Content", "sort: latest, popular or trending")
    return await _listing(request, ordering)


async def trending_content(request: Request) -> Response:
    ordering = TRENDING.get(request.query_params.get("window", "24h"))
    if ordering is None:
        return _problem(422, "Unprocessable Content", "window: 24h, 7d or 30d")
    return await _listing(request, ordering)


async def read_content(request: Request) -> Response:
    try:
        content_id = uuid.UUID(request.path_params["content_id"])
    except ValueError:
        return _problem(422, "Unprocessable Content", "content_id is not a UUID")
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            DETAIL_SQL, *_JSON_KEYS, PUBLISHED, datetime.now(UTC), APPROVED, content_id
        )
    if row is None:
        return _problem(404, "Not Found", "No such content.")
    return _json(_item(row), headers={"ETag": f'"{row["version"]}"'})


async def search(request: Request) -> Response:
    text = request.query_params.get("q", "")
    terms = search_terms(text)
    if len(text) > _MAX_QUERY_LENGTH or not terms:
        return _problem(422, "Unprocessable Content", "q needs at least one letter or digit.")
    params = (*_JSON_KEYS, *_SEARCH_WEIGHTS, "simple", PUBLISHED, datetime.now(UTC), APPROVED)
    return await _page(request, search_ordering(terms), search_statements(terms), params)


# --- GET /users/me/feed: a signed-in viewer (auth/dependencies.py, engagement/) ---------

USER_SQL = (
    "SELECT users.id, users.email, users.username, users.password_hash, "
    "users.email_verified, users.email_verified_at, users.display_name, users.avatar_url, "
    "users.bio, users.location, users.website, users.birth_date, users.role, users.status, "
    "users.is_creator, users.preferences, users.last_login_at, users.tokens_valid_after, "
    "users.updated_at, users.created_at, users.deleted_at, users.version \nFROM users \n"
    "WHERE users.id = $1::UUID AND users.deleted_at IS NULL"
)
_TOKEN_CLAIMS = ["sub", "role", "exp", "iat", "jti", "iss", "typ"]
_BLOCKED = {"SUSPENDED", "BANNED"}
_STAFF = {"MODERATOR", "ADMIN"}
_ADULT_AGE = 18
_NOT_AGE_RESTRICTED = " AND content.age_restricted IS false"
_FOLLOWED = (
    " AND content.creator_id IN (SELECT follows.creator_id \nFROM follows \n"
    "WHERE follows.user_id = $6::UUID)"
)
# Entitlements (content/entitlements.py): live subscriptions, and each tier's level.
_LIVE_SUBSCRIPTION = ("ACTIVE", "CANCELED")
_LEVELS = {"BASIC": 1, "PREMIUM": 2, "VIP": 3}
_HIGHEST = 3


def feed_sql(*, adult: bool, after: bool) -> str:
    """The feed of a viewer who hides NSFW: `listed()` (an adult also sees age-restricted
    items), kept to the followed creators, newest first."""
    listed = _LISTED.format(3, 4, 5)
    if adult:
        listed = listed.removesuffix(_NOT_AGE_RESTRICTED)
    keyset = (
        " AND (content.published_at, content.id) < ($7::TIMESTAMP WITH TIME ZONE, $8::UUID)"
        if after
        else ""
    )
    return (
        f"SELECT {_CARD_COLUMNS}{_FROM}\nWHERE {listed}{_FOLLOWED}{keyset} "
        "ORDER BY content.published_at DESC, content.id DESC \n"
        f" LIMIT ${9 if after else 7}::INTEGER"
    )


FEED_SQL = {
    adult: (feed_sql(adult=adult, after=False), feed_sql(adult=adult, after=True))
    for adult in (False, True)
}


def _placeholders(first: int, count: int) -> str:
    return ", ".join(f"${number}::UUID" for number in range(first, first + count))


def purchases_sql(items: int) -> str:
    return (
        "SELECT content_purchases.content_id \nFROM content_purchases \n"
        "WHERE content_purchases.user_id = $1::UUID AND content_purchases.content_id IN "
        f"({_placeholders(2, items)})"
    )


def subscriptions_sql(creators: int) -> str:
    statuses = creators + 3
    return (
        "SELECT subscriptions.creator_id, subscriptions.level \nFROM subscriptions \n"
        "WHERE subscriptions.subscriber_id = $1::UUID AND subscriptions.creator_id IN "
        f"({_placeholders(3, creators)}) AND subscriptions.status IN "
        f"(${statuses}, ${statuses + 1}) "
        "AND subscriptions.current_period_end > $2::TIMESTAMP WITH TIME ZONE"
    )


def entitlement_statements(items: Sequence[dict[str, Any]]) -> list[str]:
    """The statements `_unlocked` sends for a page of these items (as JSON), for a viewer
    who owns none of them."""
    premium = [item for item in items if item["is_premium"]]
    if not premium:
        return []
    creators = {item["creator"]["id"] for item in premium}
    return [purchases_sql(len(premium)), subscriptions_sql(len(creators))]


async def _unlocked(
    conn: asyncpg.Connection, user_id: uuid.UUID, rows: Sequence[asyncpg.Record], now: datetime
) -> frozenset[uuid.UUID]:
    """The premium items of the page this viewer may play: their own, bought, or
    included in a live subscription (the same two statements as dreamlust)."""
    premium = [row for row in rows if row["is_premium"]]
    granted = {row["id"] for row in premium if row["creator_user_id"] == user_id}
    others = [row for row in premium if row["id"] not in granted]
    if not others:
        return frozenset(granted)
    bought = await conn.fetch(purchases_sql(len(others)), user_id, *(row["id"] for row in others))
    granted.update(row[0] for row in bought)
    creators = list({row["creator_id"] for row in others})
    levels = dict(
        await conn.fetch(
            subscriptions_sql(len(creators)), user_id, now, *creators, *_LIVE_SUBSCRIPTION
        )
    )
    granted.update(
        row["id"]
        for row in others
        if levels.get(row["creator_id"], 0) >= _LEVELS.get(row["premium_tier"], _HIGHEST)
    )
    return frozenset(granted)


def _signed_in(request: Request) -> tuple[uuid.UUID, datetime] | None:
    """The user id and issue time of a valid access token (access_tokens.py), else None."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims = jwt.decode(
            token,
            request.app.state.access_key,
            algorithms=["HS256"],
            issuer="dreamlust",
            options={"require": _TOKEN_CLAIMS},
        )
        if claims["typ"] != "access":
            return None
        issued = datetime.fromtimestamp(0, UTC) + timedelta(microseconds=claims["iat_us"])
        return uuid.UUID(claims["sub"]), issued
    except (jwt.InvalidTokenError, ValueError, KeyError, TypeError, OverflowError):
        return None


def _is_adult(born: date | None, today: date) -> bool:
    if born is None:
        return False
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return age >= _ADULT_AGE


async def my_feed(request: Request) -> Response:
    token = _signed_in(request)
    if token is None:
        return _problem(401, "Unauthorized", "The access token is invalid or has expired.")
    user_id, issued = token
    try:
        limit = _limit(request)
        cursor = request.query_params.get("cursor")
        after = cursors(request).decode(LATEST, cursor) if cursor else ()
    except BadRequest as exc:
        return _problem(400, "Bad Request", str(exc))
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as conn:
        user = await conn.fetchrow(USER_SQL, user_id)
        if user is None or user["status"] in _BLOCKED:
            return _problem(401, "Unauthorized", "The account cannot sign in.")
        mark = user["tokens_valid_after"]
        if mark is not None and issued < mark:
            return _problem(401, "Unauthorized", "The access token is invalid or has expired.")
        now = datetime.now(UTC)
        adult = _is_adult(user["birth_date"], now.date())
        policy = orjson.loads(user["preferences"] or "{}").get("nsfw_policy") or "hide"
        if user["role"] in _STAFF or (adult and policy != "hide"):
            return _problem(501, "Not Implemented", "The baseline serves viewers who hide NSFW.")
        params = (*_JSON_KEYS, PUBLISHED, now, APPROVED, user_id)
        sql = FEED_SQL[adult][1 if after else 0]
        rows = await conn.fetch(sql, *params, *after, limit + 1)
        page = rows[:limit]
        unlocked = await _unlocked(conn, user_id, page, now)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = cursors(request).encode(LATEST, last["published_at"], last["id"])
    return _json({"items": [_item(row, unlocked) for row in page], "next_cursor": next_cursor})


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    dsn = os.environ["BENCH_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    secret = os.environ["DREAMLUST_SECRET_KEY"].encode()
    app.state.cursors = Cursors(secret)
    app.state.access_key = hmac.new(secret, b"dreamlust:access-token", hashlib.sha256).digest()
    app.state.pool = await asyncpg.create_pool(dsn, min_size=POOL_MIN, max_size=POOL_MAX)
    try:
        yield
    finally:
        await app.state.pool.close()


app = Starlette(
    routes=[
        Route("/api/v1/content", list_content),
        Route("/api/v1/content/trending", trending_content),
        Route("/api/v1/content/{content_id}", read_content),
        Route("/api/v1/search", search),
        Route("/api/v1/users/me/feed", my_feed),
    ],
    lifespan=lifespan,
)
