"""read model views

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:00:00.000000

Two views derive read models from the rows, in SQL that PostgreSQL and SQLite both run:

- `creator_statistics`: per creator, followers, live (ACTIVE or CANCELED) subscribers,
  live content by status (DRAFT split into scheduled and plain drafts), and the views,
  watch seconds, likes and live comments of all their content (deleted items included,
  as the profile's `total_views` and `total_likes` count them, until the purge).
- `content_engagement`: per content item, views, distinct viewers (viewer hashes: an
  account once, an anonymous browser once a day), watch seconds, likes, live comments
  (replies included) and saves into live playlists.

Each column is a correlated subquery over an existing index, so a query for one creator
or one page of items counts only their rows. Creating a view takes on the tables it
names only the lock a read takes; nothing is rewritten or backfilled.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _live_content_in(status: str, *extra: str) -> str:
    conditions = " AND ".join(
        ("content.deleted_at IS NULL", f"content.status = '{status}'", *extra)
    )
    where = f"content.creator_id = creators.id AND {conditions}"
    return f"(SELECT COUNT(*) FROM content WHERE {where})"  # noqa: S608 (constants only)


def _of_creator_content(aggregate: str, table: str, *extra: str) -> str:
    joined = f"{table} JOIN content ON content.id = {table}.content_id"
    where = " AND ".join(("content.creator_id = creators.id", *extra))
    return f"(SELECT {aggregate} FROM {joined} WHERE {where})"  # noqa: S608 (constants only)


def _of_content(aggregate: str, table: str, *extra: str) -> str:
    where = " AND ".join((f"{table}.content_id = content.id", *extra))
    return f"(SELECT {aggregate} FROM {table} WHERE {where})"  # noqa: S608 (constants only)


CREATOR_STATISTICS = f"""
CREATE VIEW creator_statistics AS
SELECT creators.id AS creator_id,
       (SELECT COUNT(*) FROM follows
        WHERE follows.creator_id = creators.id) AS follower_count,
       (SELECT COUNT(*) FROM subscriptions
        WHERE subscriptions.creator_id = creators.id
          AND subscriptions.status IN ('ACTIVE', 'CANCELED')) AS subscriber_count,
       {_live_content_in("PUBLISHED")} AS published_count,
       {_live_content_in("DRAFT", "content.scheduled_at IS NOT NULL")} AS scheduled_count,
       {_live_content_in("DRAFT", "content.scheduled_at IS NULL")} AS draft_count,
       {_live_content_in("PENDING_REVIEW")} AS pending_review_count,
       {_live_content_in("REJECTED")} AS rejected_count,
       {_live_content_in("ARCHIVED")} AS archived_count,
       {_of_creator_content("COUNT(*)", "views")} AS view_count,
       {_of_creator_content("COALESCE(SUM(views.watch_duration), 0)", "views")} AS watch_seconds,
       {_of_creator_content("COUNT(*)", "likes")} AS like_count,
       {_of_creator_content("COUNT(*)", "comments", "comments.deleted_at IS NULL")} AS comment_count
FROM creators
"""  # noqa: S608 (built from constants only)

CONTENT_ENGAGEMENT = f"""
CREATE VIEW content_engagement AS
SELECT content.id AS content_id,
       content.creator_id AS creator_id,
       {_of_content("COUNT(*)", "views")} AS view_count,
       {_of_content("COUNT(DISTINCT views.viewer_hash)", "views")} AS unique_viewers,
       {_of_content("COALESCE(SUM(views.watch_duration), 0)", "views")} AS watch_seconds,
       {_of_content("COUNT(*)", "likes")} AS like_count,
       {_of_content("COUNT(*)", "comments", "comments.deleted_at IS NULL")} AS comment_count,
       (SELECT COUNT(*) FROM playlist_items
        JOIN playlists ON playlists.id = playlist_items.playlist_id
        WHERE playlist_items.content_id = content.id
          AND playlists.deleted_at IS NULL) AS playlist_count
FROM content
"""  # noqa: S608 (built from constants only)


def upgrade() -> None:
    op.execute(CREATOR_STATISTICS)
    op.execute(CONTENT_ENGAGEMENT)


def downgrade() -> None:
    op.execute("DROP VIEW content_engagement")
    op.execute("DROP VIEW creator_statistics")
