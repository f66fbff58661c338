"""The seed's trending, optimistic-locking and soft-delete examples, on the repository layer."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from dreamlust.content import service
from dreamlust.content.repository import TRENDING, ContentRepository
from dreamlust.content.schemas import ContentUpdate
from dreamlust.content.trending import Window
from dreamlust.db import Database
from dreamlust.errors import StaleVersion
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import CursorCodec, PageRequest, Paginator
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import Content
from dreamlust.models.enums import ContentStatus
from tests.conftest import StatementCounter
from tests.fixtures.factories import make_category, make_content, make_creator, make_tag


async def test_trending_loads_creator_user_categories_and_tags_in_three_statements(
    session: AsyncSession, count_statements: StatementCounter
) -> None:
    categories = [await make_category(session) for _ in range(3)]
    tags = [await make_tag(session) for _ in range(4)]
    for index in range(25):
        creator = await make_creator(session)
        await make_content(
            session,
            creator,
            trending_24h=float(index),
            categories=categories[: index % 3 + 1],
            tags=tags[: index % 4 + 1],
        )
    await make_content(session, creator, status=ContentStatus.DRAFT, trending_24h=99.0)
    await make_content(
        session, creator, trending_24h=98.0, published_at=utcnow() + timedelta(days=1)
    )
    await session.commit()
    session.expunge_all()

    repository = ContentRepository(session)
    paginator = Paginator(CursorCodec(b"key"))
    count_statements.statements.clear()
    page = await repository.page(
        repository.trending(utcnow()), TRENDING[Window.DAY], PageRequest(limit=20), paginator
    )

    assert count_statements.count == 3
    assert [item.trending_24h for item in page.items] == [float(i) for i in range(24, 4, -1)]
    assert page.next_cursor is not None
    for item in page.items:
        index = int(item.trending_24h)
        assert item.creator.user.username
        assert len(item.categories) == index % 3 + 1
        assert len(item.tags) == index % 4 + 1


async def test_a_stale_version_is_refused_and_nothing_is_overwritten(
    session: AsyncSession,
) -> None:
    content = await make_content(session, await make_creator(session), title="Original")
    await session.commit()

    await service.update_content(
        session, content, ContentUpdate(title="First edit"), expected_version=1
    )
    await session.commit()
    assert content.version == 2

    with pytest.raises(StaleVersion):
        await service.update_content(
            session, content, ContentUpdate(title="Stale edit"), expected_version=1
        )
    await session.rollback()

    session.expunge_all()
    stored = await session.get(Content, content.id)
    assert stored is not None
    assert (stored.title, stored.version) == ("First edit", 2)


async def test_a_concurrent_writer_that_loses_the_race_is_stopped_by_the_version_column(
    database: Database,
) -> None:
    async with database.transaction() as session:
        content = await make_content(session, await make_creator(session), title="Original")

    async with database.session() as first, database.session() as second:
        theirs = await second.get(Content, content.id)
        await second.commit()  # they have read version 1 and think for a while
        mine = await first.get(Content, content.id)
        assert mine is not None
        assert theirs is not None
        await service.update_content(first, mine, ContentUpdate(title="Mine"), expected_version=1)
        await first.commit()
        theirs.title = "Theirs"
        with pytest.raises(StaleDataError):
            await second.flush()

    async with database.session() as check:
        stored = await check.get(Content, content.id)
        assert stored is not None
        assert (stored.title, stored.version) == ("Mine", 2)


async def test_soft_deleted_content_is_hidden_unless_asked_for(session: AsyncSession) -> None:
    creator = await make_creator(session)
    kept = await make_content(session, creator)
    gone = await make_content(session, creator)
    await service.delete_content(session, gone)
    await session.commit()
    session.expunge_all()

    repository = ContentRepository(session)
    visible = await repository.all(select(Content))
    assert [item.id for item in visible] == [kept.id]
    assert await repository.get(gone.id) is None

    everything = await repository.all(select(Content).execution_options(**{INCLUDE_DELETED: True}))
    assert {item.id for item in everything} == {kept.id, gone.id}
    deleted = await repository.get(gone.id, include_deleted=True)
    assert deleted is not None
    assert deleted.deleted_at is not None

    await service.restore_content(session, deleted, retention=timedelta(days=30))
    await session.commit()
    session.expunge_all()
    assert await repository.get(gone.id) is not None


async def test_relationship_loads_hide_soft_deleted_rows(session: AsyncSession) -> None:
    creator = await make_creator(session)
    live_category = await make_category(session)
    deleted_category = await make_category(session)
    content = await make_content(session, creator, categories=[live_category, deleted_category])
    deleted_category.deleted_at = utcnow()
    await session.commit()
    session.expunge_all()

    repository = ContentRepository(session)
    loaded = await repository.one_or_none(
        repository.trending(utcnow()).where(Content.id == content.id)
    )
    assert loaded is not None
    assert [category.id for category in loaded.categories] == [live_category.id]
