"""Constraints the database itself enforces: unique pairs, cascades, case-insensitive keys."""

import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.models import (
    Comment,
    Content,
    ContentPurchase,
    Creator,
    Follow,
    Like,
    ModerationCase,
    Playlist,
    PlaylistItem,
    Report,
    Transaction,
    User,
    View,
    content_categories,
    content_tags,
    creator_categories,
)
from dreamlust.models.enums import (
    ReportStatus,
    ReportTargetType,
    ReportType,
    TransactionStatus,
    TransactionType,
)
from tests.fixtures.factories import (
    make_category,
    make_content,
    make_creator,
    make_playlist,
    make_subscription,
    make_tag,
    make_user,
)


async def _refused_twice(session: AsyncSession, add: Callable[[], Awaitable[None]]) -> None:
    await add()
    await session.commit()
    with pytest.raises(IntegrityError):
        await add()
    await session.rollback()


async def test_a_user_likes_a_content_item_once(session: AsyncSession) -> None:
    content = await make_content(session, await make_creator(session))
    user = await make_user(session)

    async def like() -> None:
        session.add(Like(content_id=content.id, user_id=user.id))
        await session.flush()

    await _refused_twice(session, like)


@pytest.mark.parametrize(
    ("table", "left", "right"),
    [
        (content_tags, "content_id", "tag_id"),
        (content_categories, "content_id", "category_id"),
        (creator_categories, "creator_id", "category_id"),
    ],
)
async def test_join_rows_are_unique_per_pair(
    session: AsyncSession, table: object, left: str, right: str
) -> None:
    creator = await make_creator(session)
    content = await make_content(session, creator)
    owner_id = creator.id if left == "creator_id" else content.id
    other_id = (
        (await make_tag(session)).id if right == "tag_id" else (await make_category(session)).id
    )

    async def join() -> None:
        await session.execute(insert(table).values({left: owner_id, right: other_id}))  # type: ignore[arg-type]

    await _refused_twice(session, join)


async def test_a_follow_and_a_subscription_are_unique_per_pair(session: AsyncSession) -> None:
    creator = await make_creator(session)
    fan = await make_user(session)
    fan_id, creator_id = fan.id, creator.id

    async def follow() -> None:
        session.add(Follow(user_id=fan_id, creator_id=creator_id))
        await session.flush()

    await _refused_twice(session, follow)
    creator, fan = await session.get_one(Creator, creator_id), await session.get_one(User, fan_id)

    async def subscribe() -> None:
        await make_subscription(session, fan, creator)

    await _refused_twice(session, subscribe)


async def test_playlist_items_are_unique_per_content_and_per_position(
    session: AsyncSession,
) -> None:
    creator = await make_creator(session)
    first, second = await make_content(session, creator), await make_content(session, creator)
    playlist = await make_playlist(session, await make_user(session))
    playlist_id, first_id, second_id = playlist.id, first.id, second.id
    session.add(PlaylistItem(playlist_id=playlist_id, content_id=first_id, position=0))
    await session.commit()

    session.add(PlaylistItem(playlist_id=playlist_id, content_id=first_id, position=1))
    with pytest.raises(IntegrityError):
        await session.flush()
    await session.rollback()

    session.add(PlaylistItem(playlist_id=playlist_id, content_id=second_id, position=0))
    with pytest.raises(IntegrityError):
        await session.flush()
    await session.rollback()


@pytest.mark.parametrize("field", ["email", "username"])
async def test_email_and_username_are_unique_ignoring_case(
    session: AsyncSession, field: str
) -> None:
    await make_user(session, email="Mixed@Example.com", username="MixedCase")
    await session.commit()
    clash = {"email": "mixed@example.COM"} if field == "email" else {"username": "mixedcase"}
    with pytest.raises(IntegrityError):
        await make_user(session, **clash)
    await session.rollback()


async def test_creator_handles_are_unique_ignoring_case(session: AsyncSession) -> None:
    await make_creator(session, handle="NightOwl")
    await session.commit()
    with pytest.raises(IntegrityError):
        await make_creator(session, handle="nightowl")
    await session.rollback()


async def test_enum_columns_refuse_unknown_values(session: AsyncSession) -> None:
    user = await make_user(session)
    await session.commit()
    with pytest.raises(IntegrityError):
        await session.execute(
            text("UPDATE users SET role = 'EMPEROR' WHERE id = :id"),
            {"id": user.id.hex if session.bind.dialect.name == "sqlite" else user.id},
        )
    await session.rollback()


async def test_one_open_report_per_reporter_and_target(session: AsyncSession) -> None:
    reporter = await make_user(session)
    target = uuid.uuid4()
    case = ModerationCase(target_type=ReportTargetType.CONTENT, target_id=target)
    session.add(case)
    await session.flush()

    def report() -> Report:
        return Report(
            case_id=case_id,
            reporter_id=reporter_id,
            target_type=ReportTargetType.CONTENT,
            target_id=target,
            type=ReportType.SPAM,
            reason="spam",
            weight=20,
        )

    reporter_id, case_id = reporter.id, case.id
    first = report()
    session.add(first)
    await session.commit()
    first_id = first.id
    session.add(report())
    with pytest.raises(IntegrityError):
        await session.flush()
    await session.rollback()

    first = await session.get_one(Report, first_id)
    first.status = ReportStatus.RESOLVED
    await session.commit()
    session.add(report())
    await session.commit()


async def test_one_open_moderation_case_per_target(session: AsyncSession) -> None:
    target = uuid.uuid4()

    def case(status: ReportStatus = ReportStatus.PENDING) -> ModerationCase:
        return ModerationCase(target_type=ReportTargetType.USER, target_id=target, status=status)

    session.add_all([case(ReportStatus.DISMISSED), case(ReportStatus.ACTION_TAKEN), case()])
    await session.commit()
    session.add(case(ReportStatus.UNDER_REVIEW))
    with pytest.raises(IntegrityError):
        await session.flush()
    await session.rollback()


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)  # type: ignore[arg-type]


async def test_hard_deleting_content_cascades_but_keeps_the_ledger(
    session: AsyncSession,
) -> None:
    creator = await make_creator(session)
    content = await make_content(
        session,
        creator,
        categories=[await make_category(session)],
        tags=[await make_tag(session)],
    )
    viewer = await make_user(session)
    playlist = await make_playlist(session, viewer)
    parent = Comment(content_id=content.id, user_id=viewer.id, text="first")
    session.add(parent)
    await session.flush()
    session.add_all(
        [
            View(content_id=content.id, user_id=viewer.id, viewer_hash="h"),
            Like(content_id=content.id, user_id=viewer.id),
            Comment(content_id=content.id, user_id=viewer.id, parent_id=parent.id, text="reply"),
            PlaylistItem(playlist_id=playlist.id, content_id=content.id, position=0),
        ]
    )
    sale = Transaction(
        user_id=viewer.id,
        creator_id=creator.id,
        content_id=content.id,
        type=TransactionType.PREMIUM_CONTENT,
        status=TransactionStatus.COMPLETED,
        amount=Decimal("9.99"),
        currency="USD",
    )
    session.add(sale)
    await session.flush()
    session.add(
        ContentPurchase(
            user_id=viewer.id,
            content_id=content.id,
            transaction_id=sale.id,
            amount=Decimal("9.99"),
            currency="USD",
        )
    )
    await session.commit()

    await session.execute(delete(Content).where(Content.id == content.id))
    await session.commit()
    session.expunge_all()

    for model in (View, Like, Comment, PlaylistItem, ContentPurchase):
        assert await _count(session, model) == 0, model
    joins = await session.scalar(select(func.count()).select_from(content_tags))
    assert joins == 0
    kept = await session.get(Transaction, sale.id)
    assert kept is not None
    assert (kept.content_id, kept.amount) == (None, Decimal("9.99"))
    assert await _count(session, Playlist) == 1


async def test_hard_deleting_a_user_cascades_to_their_creator_profile_and_content(
    session: AsyncSession,
) -> None:
    creator = await make_creator(session)
    await make_content(session, creator)
    tip = Transaction(
        user_id=creator.user_id,
        type=TransactionType.TIP,
        status=TransactionStatus.COMPLETED,
        amount=Decimal("1.50"),
        currency="EUR",
    )
    session.add(tip)
    await session.commit()

    await session.execute(delete(User).where(User.id == creator.user_id))
    await session.commit()
    session.expunge_all()

    assert await _count(session, Creator) == 0
    assert await _count(session, Content) == 0
    kept = await session.get(Transaction, tip.id)
    assert kept is not None
    assert kept.user_id is None
    assert kept.created_at <= utcnow()
