"""The database views: read models derived from the rows, never written.

They are tables to SQLAlchemy, on a `MetaData` of their own rather than
`Base.metadata`: the views are created by migrations (0004 and 0011), so neither
`create_all` nor autogenerate's comparison of models and migrations may take them for
tables. Each is marked `info={"is_view": True}`.

- `creator_balances` (0004): a creator's money per currency, from the ledger, in cents.
- `creator_statistics` (0011): a creator's audience and catalogue, counted from the rows
  (follows, live subscriptions, content by status, and the views, watch time, likes and
  live comments of all their content, deleted items included until the purge removes
  them, as the profile's totals count them).
- `content_engagement` (0011): one item's views, distinct viewers, watch time, likes, live
  comments and saves into live playlists, counted from the rows.

Every column is a correlated count over an index, evaluated only for the rows a query
asks for, so reading one creator or one page of items costs what their rows cost; a
view is never read whole. The public pages (profiles, content cards, lists) keep reading
the denormalized counters on `creators` and `content` instead: those are exact too
(`dreamlust recount --check`), and a column read is cheaper than any count.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, String, Table, Uuid

VIEWS = MetaData()
_VIEW = {"is_view": True}


def _counts(*names: str) -> list[Column[int]]:
    return [Column(name, BigInteger(), nullable=False) for name in names]


creator_balances = Table(
    "creator_balances",
    VIEWS,
    Column("creator_id", Uuid(), nullable=False),
    Column("currency", String(3), nullable=False),
    *_counts(
        "gross_cents",
        "fee_cents",
        "refunded_cents",
        "withdrawn_cents",
        "pending_cents",
        "available_cents",
    ),
    info=_VIEW,
)

creator_statistics = Table(
    "creator_statistics",
    VIEWS,
    Column("creator_id", Uuid(), primary_key=True),
    *_counts(
        "follower_count",
        "subscriber_count",
        "published_count",
        "scheduled_count",
        "draft_count",
        "pending_review_count",
        "rejected_count",
        "archived_count",
        "view_count",
        "watch_seconds",
        "like_count",
        "comment_count",
    ),
    info=_VIEW,
)

content_engagement = Table(
    "content_engagement",
    VIEWS,
    Column("content_id", Uuid(), primary_key=True),
    Column("creator_id", Uuid(), nullable=False),
    *_counts(
        "view_count",
        "unique_viewers",
        "watch_seconds",
        "like_count",
        "comment_count",
        "playlist_count",
    ),
    info=_VIEW,
)
