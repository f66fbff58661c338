"""The whole demo data set as batches of rows, in an order the foreign keys accept.

Everything that feeds a counter is decided first (people, follows, subscriptions and
the content plan), so every counter is exact when its row is written; the bulky rows
(content and its engagement, playlists) are then produced one batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import cast

from sqlalchemy import Table

from dreamlust.kit.model import Base
from dreamlust.models import (
    AuditLogEntry,
    Category,
    Comment,
    Content,
    ContentPurchase,
    Creator,
    CreatorTier,
    Follow,
    Like,
    ModerationCase,
    Notification,
    Playlist,
    PlaylistItem,
    Report,
    ReporterRecord,
    Subscription,
    Tag,
    Transaction,
    User,
    View,
    content_categories,
    content_tags,
    creator_categories,
)
from dreamlust.seeding.commerce import (
    build_ledger,
    ledger_transaction_rows,
    purchase_rows,
    subscription_rows,
    tier_rows,
)
from dreamlust.seeding.content import PlannedContent, content_row, plan_content
from dreamlust.seeding.context import Row, SeedContext
from dreamlust.seeding.engagement import Audience, engage
from dreamlust.seeding.follows import build_follows, follow_rows
from dreamlust.seeding.moderation import creator_review_rows, moderation_rows
from dreamlust.seeding.notifications import notification_rows
from dreamlust.seeding.people import build_community
from dreamlust.seeding.playlists import playlist_batches
from dreamlust.seeding.taxonomy import build_taxonomy, category_rows, tag_rows

Batch = tuple[Table, list[Row]]

CONTENT_BATCH = 1_000
PLAYLIST_OWNER_BATCH = 2_000
_REPORTED_COMMENT_SHARE = 0.1


def table_of(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def demo_batches(ctx: SeedContext) -> Iterator[Batch]:
    taxonomy = build_taxonomy(ctx)
    community = build_community(ctx, taxonomy)
    follows = build_follows(ctx, community)
    ledger = build_ledger(ctx, community)
    plans = plan_content(ctx, community, taxonomy)

    yield table_of(User), community.user_rows
    yield table_of(Category), category_rows(ctx, taxonomy)
    yield table_of(Tag), tag_rows(ctx, taxonomy)
    yield table_of(Creator), [creator.finished_row() for creator in community.creators]
    yield (
        creator_categories,
        [
            {"creator_id": creator.id, "category_id": category_id}
            for creator in community.creators
            for category_id in creator.category_ids
        ],
    )
    yield table_of(CreatorTier), tier_rows(ctx, community)
    yield table_of(Follow), follow_rows(ctx, follows)
    yield table_of(Subscription), subscription_rows(ledger)
    yield table_of(Transaction), ledger_transaction_rows(ctx, ledger)
    yield table_of(Notification), notification_rows(ctx, community, follows, ledger)
    yield table_of(AuditLogEntry), creator_review_rows(ctx, community)

    audience = Audience.of(community)
    reported_comments: list[Row] = []
    for start in range(0, len(plans), CONTENT_BATCH):
        chunk = plans[start : start + CONTENT_BATCH]
        yield from _content_batches(ctx, chunk, audience, reported_comments)

    for batch in playlist_batches(ctx, community, plans, PLAYLIST_OWNER_BATCH):
        yield table_of(Playlist), batch.playlists
        yield table_of(PlaylistItem), batch.items

    moderation = moderation_rows(ctx, community, plans, reported_comments)
    yield table_of(ModerationCase), moderation.cases
    yield table_of(Report), moderation.reports
    yield table_of(ReporterRecord), moderation.records
    yield table_of(AuditLogEntry), moderation.audit


def _content_batches(
    ctx: SeedContext,
    plans: list[PlannedContent],
    audience: Audience,
    reported_comments: list[Row],
) -> Iterator[Batch]:
    rows = [content_row(ctx, plan) for plan in plans]
    for plan, row in zip(plans, rows, strict=True):
        plan.title = row["title"]
    views: list[Row] = []
    likes: list[Row] = []
    comments: list[Row] = []
    payments: list[Row] = []
    purchases: list[Row] = []
    for plan, row in zip(plans, rows, strict=True):
        engagement = engage(ctx, plan, row, audience)
        views += engagement.views
        likes += engagement.likes
        comments += engagement.comments
        if (
            engagement.comments
            and len(reported_comments) < ctx.sizes.reports
            and ctx.chance(_REPORTED_COMMENT_SHARE)
        ):
            reported_comments.append(ctx.rng.choice(engagement.comments))
        bought, entitlements = purchase_rows(ctx, plan, row["title"], audience.adults)
        payments += bought
        purchases += entitlements

    yield table_of(Content), rows
    yield (
        content_categories,
        [
            {"content_id": plan.id, "category_id": category_id}
            for plan in plans
            for category_id in plan.category_ids
        ],
    )
    yield (
        content_tags,
        [{"content_id": plan.id, "tag_id": tag_id} for plan in plans for tag_id in plan.tag_ids],
    )
    yield table_of(View), views
    yield table_of(Like), likes
    yield table_of(Comment), comments
    yield table_of(Transaction), payments
    yield table_of(ContentPurchase), purchases
