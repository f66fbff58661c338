"""Every denormalized counter and the rows it counts.

Each counter is a column of an owner table and a tally: one grouped query over the
source rows giving (owner id, count) for every owner that has any; owners absent from
the tally should hold zero. The definitions are those the live code maintains:

- likes and follows: `engagement.repository` moves `content.like_count`,
  `creators.total_likes` and `creators.follower_count` with each row; deleting content
  leaves its likes (and the creator's total) alone, so deleted content still counts;
- `creators.content_count` counts live PUBLISHED items and `tags.usage_count` live items
  of any status carrying the tag (`content.service`);
- views, comments, replies and playlist items are counted as the seeding builds them:
  every view row, live comments (replies included), live replies, every playlist item;
- `creators.subscriber_count` counts live subscriptions, ACTIVE or CANCELED (paid and
  not renewing), as `billing.subscriptions` moves it;
- a moderation case counts its reports and sums their weights (`moderation.reports`), and
  a reporter's record counts their closed reports and those upheld
  (`moderation.track_record`).

`comments.like_count` and `content.share_count` have no source rows to count, so they
are not recounted.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute

from dreamlust.content.entitlements import LIVE_SUBSCRIPTION
from dreamlust.models import (
    Comment,
    Content,
    Creator,
    Follow,
    Like,
    ModerationCase,
    Playlist,
    PlaylistItem,
    Report,
    ReporterRecord,
    Subscription,
    Tag,
    View,
    content_tags,
)
from dreamlust.models.enums import ContentStatus
from dreamlust.moderation.track_record import CLOSED, UPHELD

Tally = Select[uuid.UUID, int]


@dataclass(frozen=True)
class Counter:
    """`column` of each row of its table should equal that row's count in `tally`."""

    column: InstrumentedAttribute[int]
    tally: Tally

    @property
    def owner(self) -> type[Any]:
        return self.column.property.parent.class_

    @property
    def owner_key(self) -> str:
        """The attribute of the owner's primary key."""
        [key] = self.owner.__mapper__.primary_key
        return str(key.key)

    @property
    def name(self) -> str:
        return f"{self.owner.__tablename__}.{self.column.key}"


def _count_by(owner_id: InstrumentedAttribute[Any], *where: ColumnElement[bool]) -> Tally:
    return select(owner_id, func.count()).where(*where).group_by(owner_id)


def _creator_totals(per_content: Tally) -> Tally:
    """Sum a per-content tally by creator: the source rows are grouped once by content,
    and only those groups are joined to their content, deleted items included."""
    counts = per_content.subquery()
    content_id, count = counts.c
    return (
        select(Content.creator_id, cast(func.sum(count), BigInteger))
        .join_from(counts, Content, Content.id == content_id)
        .group_by(Content.creator_id)
    )


def _tag_usage() -> Tally:
    return (
        select(content_tags.c.tag_id, func.count())
        .join(Content, Content.id == content_tags.c.content_id)
        .where(Content.deleted_at.is_(None))
        .group_by(content_tags.c.tag_id)
    )


# Creators come first, then content: the order in which a like moves its two counters,
# so that a recount and a concurrent like take their row locks in the same order.
COUNTERS: tuple[Counter, ...] = (
    Counter(Creator.follower_count, _count_by(Follow.creator_id)),
    Counter(
        Creator.subscriber_count,
        _count_by(Subscription.creator_id, Subscription.status.in_(LIVE_SUBSCRIPTION)),
    ),
    Counter(
        Creator.content_count,
        _count_by(
            Content.creator_id,
            Content.status == ContentStatus.PUBLISHED,
            Content.deleted_at.is_(None),
        ),
    ),
    Counter(Creator.total_views, _creator_totals(_count_by(View.content_id))),
    Counter(Creator.total_likes, _creator_totals(_count_by(Like.content_id))),
    Counter(Content.view_count, _count_by(View.content_id)),
    Counter(Content.like_count, _count_by(Like.content_id)),
    Counter(Content.comment_count, _count_by(Comment.content_id, Comment.deleted_at.is_(None))),
    Counter(
        Comment.reply_count,
        _count_by(Comment.parent_id, Comment.parent_id.is_not(None), Comment.deleted_at.is_(None)),
    ),
    Counter(Playlist.item_count, _count_by(PlaylistItem.playlist_id)),
    Counter(Tag.usage_count, _tag_usage()),
    Counter(ModerationCase.report_count, _count_by(Report.case_id)),
    Counter(
        ModerationCase.score,
        select(Report.case_id, cast(func.sum(Report.weight), BigInteger)).group_by(Report.case_id),
    ),
    Counter(
        ReporterRecord.closed_reports, _count_by(Report.reporter_id, Report.status.in_(CLOSED))
    ),
    Counter(
        ReporterRecord.upheld_reports, _count_by(Report.reporter_id, Report.status.in_(UPHELD))
    ),
)
