"""The demo data set: complete, with exact counters, deterministic, and loaded only
into an empty database."""

import random
import uuid
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import aliased

from dreamlust.billing.repository import CENT, INFLOWS, creator_balances
from dreamlust.config import Settings
from dreamlust.content.entitlements import LIVE_SUBSCRIPTION
from dreamlust.db import Database
from dreamlust.kit.clock import utcnow as now
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
    Transaction,
    User,
    View,
    content_tags,
)
from dreamlust.models.enums import (
    ContentStatus,
    ContentType,
    CreatorStatus,
    ReportStatus,
    SubscriptionStatus,
    TransactionType,
    UserRole,
)
from dreamlust.seeding import DatabaseNotEmpty, seed_database, seed_if_empty
from dreamlust.seeding.catalog import ADMIN_EMAIL, DEMO_PASSWORD
from dreamlust.seeding.context import SeedContext, SeedSizes
from dreamlust.seeding.ids import IdFactory
from dreamlust.seeding.pipeline import demo_batches
from tests.fixtures.accounts import bearer, login

MAIN_TABLES = {
    "users",
    "creators",
    "categories",
    "tags",
    "content",
    "content_categories",
    "content_tags",
    "creator_categories",
    "follows",
    "views",
    "likes",
    "comments",
    "playlists",
    "playlist_items",
    "subscriptions",
    "transactions",
    "notifications",
    "reports",
    "moderation_cases",
    "reporter_records",
    "creator_tiers",
}


def _count_of(stmt: Select[tuple[int]]) -> ColumnElement[int]:
    return stmt.scalar_subquery()


def _counter_mismatches() -> dict[str, Select[tuple[int]]]:
    """For each denormalized counter, how many rows disagree with the rows it counts."""
    reply = aliased(Comment)
    published = Content.status == ContentStatus.PUBLISHED
    return {
        "content.view_count": select(func.count()).where(
            Content.view_count
            != _count_of(select(func.count()).where(View.content_id == Content.id))
        ),
        "content.like_count": select(func.count()).where(
            Content.like_count
            != _count_of(select(func.count()).where(Like.content_id == Content.id))
        ),
        "content.comment_count": select(func.count()).where(
            Content.comment_count
            != _count_of(select(func.count()).where(Comment.content_id == Content.id))
        ),
        "comments.reply_count": select(func.count()).where(
            Comment.reply_count
            != _count_of(select(func.count()).where(reply.parent_id == Comment.id))
        ),
        "creators.follower_count": select(func.count()).where(
            Creator.follower_count
            != _count_of(select(func.count()).where(Follow.creator_id == Creator.id))
        ),
        "creators.content_count": select(func.count()).where(
            Creator.content_count
            != _count_of(select(func.count()).where(Content.creator_id == Creator.id, published))
        ),
        "creators.total_views": select(func.count()).where(
            Creator.total_views
            != _count_of(
                select(func.count())
                .select_from(View)
                .join(Content, Content.id == View.content_id)
                .where(Content.creator_id == Creator.id)
            )
        ),
        "creators.total_likes": select(func.count()).where(
            Creator.total_likes
            != _count_of(
                select(func.count())
                .select_from(Like)
                .join(Content, Content.id == Like.content_id)
                .where(Content.creator_id == Creator.id)
            )
        ),
        "creators.subscriber_count": select(func.count()).where(
            Creator.subscriber_count
            != _count_of(
                select(func.count()).where(
                    Subscription.creator_id == Creator.id,
                    Subscription.status.in_(
                        (SubscriptionStatus.ACTIVE, SubscriptionStatus.CANCELED)
                    ),
                )
            )
        ),
        "tags.usage_count": select(func.count()).where(
            Tag.usage_count
            != _count_of(select(func.count()).where(content_tags.c.tag_id == Tag.id))
        ),
        "playlists.item_count": select(func.count()).where(
            Playlist.item_count
            != _count_of(select(func.count()).where(PlaylistItem.playlist_id == Playlist.id))
        ),
        "playlist positions 0..n-1": select(func.count()).select_from(
            select(PlaylistItem.playlist_id)
            .group_by(PlaylistItem.playlist_id)
            .having(
                or_(
                    func.min(PlaylistItem.position) != 0,
                    func.max(PlaylistItem.position) != func.count() - 1,
                )
            )
            .subquery()
        ),
    }


async def test_the_demo_data_fills_every_main_table_with_exact_counters(
    settings: Settings, database: Database
) -> None:
    summary = await seed_database(settings, scale=1, random_seed=7)

    async with database.transaction(write=False) as session:
        stored = {
            table.name: await session.scalar(select(func.count()).select_from(table))
            for table in (t for t in User.metadata.sorted_tables if t.name in summary)
        }
        mismatches = {
            name: await session.scalar(stmt) for name, stmt in _counter_mismatches().items()
        }

    assert {table for table, count in summary.items() if count > 0} >= MAIN_TABLES
    assert stored == summary
    assert mismatches == dict.fromkeys(mismatches, 0)


async def test_the_demo_content_is_varied_and_plausible(
    settings: Settings, database: Database
) -> None:
    await seed_database(settings, scale=1, random_seed=7)
    now = datetime.now(UTC)

    async with database.transaction(write=False) as session:
        content = list((await session.scalars(select(Content))).all())
        creators = list((await session.scalars(select(Creator))).all())
        users = list((await session.scalars(select(User))).all())

    assert {item.type for item in content} == set(ContentType)
    for item in content:
        assert (item.duration is None) == (item.type is ContentType.PHOTO)
        if item.type in (ContentType.PHOTO, ContentType.VR):
            assert item.width
            assert item.height
        assert (item.vr_projection is not None) == (item.type is ContentType.VR)
        assert (item.vr_stereo_format is not None) == (item.type is ContentType.VR)
        assert item.is_premium == (item.price is not None) == (item.currency is not None)
    published = [item for item in content if item.status is ContentStatus.PUBLISHED]
    assert len(published) > len(content) * 0.7
    assert all(item.published_at is not None and item.published_at <= now for item in published)
    scheduled = [item for item in content if item.scheduled_at is not None]
    assert scheduled
    assert all(item.status is ContentStatus.DRAFT and item.scheduled_at > now for item in scheduled)
    assert any(item.is_nsfw for item in published)
    assert any(item.age_restricted for item in published)
    assert any(item.is_premium for item in published)
    assert {CreatorStatus.APPROVED, CreatorStatus.PENDING, CreatorStatus.SUSPENDED} <= {
        creator.status for creator in creators
    }
    assert any(creator.is_verified for creator in creators)
    assert {user.preferences["nsfw_policy"] for user in users} == {"hide", "blur", "show"}
    minors = [u for u in users if u.birth_date and u.birth_date.year > now.year - 18]
    assert len(minors) >= 3
    assert all(user.preferences["nsfw_policy"] == "hide" for user in minors)
    roles = {user.username: user.role for user in users}
    assert roles["admin"] is UserRole.ADMIN
    assert UserRole.MODERATOR in roles.values()


async def test_the_demo_reports_add_up_to_their_cases_and_reporters_records(
    settings: Settings, database: Database
) -> None:
    await seed_database(settings, scale=1, random_seed=7)

    async with database.transaction(write=False) as session:
        cases = list(await session.scalars(select(ModerationCase)))
        reports = list(await session.scalars(select(Report)))
        records = {
            record.user_id: (record.closed_reports, record.upheld_reports)
            for record in await session.scalars(select(ReporterRecord))
        }

    of_case: dict[uuid.UUID, list[Report]] = {case.id: [] for case in cases}
    for report in reports:
        of_case[report.case_id].append(report)
    for case in cases:
        mine = of_case[case.id]
        assert case.report_count == len(mine) == len({r.reporter_id for r in mine})
        assert case.score == sum(report.weight for report in mine)
        assert {report.status for report in mine} == {case.status}
        assert all(report.snapshot and report.snapshot["author_id"] for report in mine)
        assert all(report.snapshot["author_id"] != str(report.reporter_id) for report in mine)
    open_targets = [case.target_id for case in cases if case.closed_at is None]
    assert len(open_targets) == len(set(open_targets))
    assert {case.status for case in cases} == {
        ReportStatus.PENDING,
        ReportStatus.UNDER_REVIEW,
        ReportStatus.RESOLVED,
        ReportStatus.DISMISSED,
    }
    closed = [report for report in reports if report.resolved_at is not None]
    expected: dict[uuid.UUID | None, tuple[int, int]] = {}
    for report in closed:
        done, upheld = expected.get(report.reporter_id, (0, 0))
        expected[report.reporter_id] = (done + 1, upheld + (report.status is ReportStatus.RESOLVED))
    assert records == expected


async def test_the_demo_ledger_follows_the_rules_of_money(
    settings: Settings, database: Database
) -> None:
    await seed_database(settings, scale=1, random_seed=7)

    async with database.transaction(write=False) as session:
        payments = list(
            await session.scalars(select(Transaction).where(Transaction.type.in_(INFLOWS)))
        )
        negative = await session.scalar(
            select(func.count())
            .select_from(creator_balances)
            .where(creator_balances.c.available_cents < 0)
        )
        subscriptions = list(await session.scalars(select(Subscription)))

    assert payments
    assert all(payment.fee == (payment.amount / 5).quantize(CENT) for payment in payments)
    assert all(
        payment.period_end is not None
        for payment in payments
        if payment.type is TransactionType.SUBSCRIPTION
    )
    assert negative == 0
    live = [s for s in subscriptions if s.status in LIVE_SUBSCRIPTION]
    assert live
    today = now().replace(hour=0, minute=0, second=0, microsecond=0)  # the seed's "now"
    assert all(s.current_period_end is not None and s.current_period_end > today for s in live)


async def test_the_admin_signs_in_with_the_demo_password(
    client: httpx.AsyncClient, settings: Settings, database: Database
) -> None:
    await seed_database(settings, scale=1, random_seed=7)

    tokens = await login(client, "admin", DEMO_PASSWORD)
    me = await client.get("/api/v1/users/me", headers=bearer(tokens["access_token"]))
    preferences = await client.get(
        "/api/v1/users/me/preferences", headers=bearer(tokens["access_token"])
    )

    assert me.status_code == 200, me.text
    assert me.json()["email"] == ADMIN_EMAIL
    assert preferences.status_code == 200, preferences.text


async def test_demo_data_is_loaded_only_into_an_empty_database(
    settings: Settings, database: Database
) -> None:
    await seed_if_empty(settings)
    async with database.transaction(write=False) as session:
        users_after_first_load = await session.scalar(select(func.count()).select_from(User))

    await seed_if_empty(settings)
    with pytest.raises(DatabaseNotEmpty):
        await seed_database(settings, scale=1, random_seed=7)

    async with database.transaction(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(User)) == (
            users_after_first_load
        )
    assert users_after_first_load


def _generate(random_seed: int) -> list[tuple[str, list[dict[str, object]]]]:
    ctx = SeedContext(
        rng=random.Random(random_seed),
        new_id=IdFactory(random_seed),
        now=datetime(2026, 3, 1, tzinfo=UTC),
        sizes=SeedSizes.for_scale(1),
        password_hash="argon2-hash",
    )
    return [(table.name, rows) for table, rows in demo_batches(ctx)]


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows() -> None:
    first = _generate(7)

    assert _generate(7) == first
    assert _generate(8) != first


def test_every_demo_id_is_a_uuid7() -> None:
    ids = [row["id"] for _, rows in _generate(7) for row in rows if "id" in row]

    assert ids
    assert all(isinstance(value, uuid.UUID) and value.version == 7 for value in ids)
    assert len(set(ids)) == len(ids)
