"""The seed's optimistic-locking and soft-delete examples, on the repository layer."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from dreamlust.content import service
from dreamlust.content.repository import READ_OPTIONS, ContentRepository
from dreamlust.content.schemas import ContentUpdate
from dreamlust.db import Database
from dreamlust.errors import StaleVersion
from dreamlust.kit.clock import utcnow
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import Content
from tests.fixtures.factories import make_category, make_content, make_creator


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
        repository.select().where(Content.id == content.id).options(*READ_OPTIONS)
    )
    assert loaded is not None
    assert [category.id for category in loaded.categories] == [live_category.id]
