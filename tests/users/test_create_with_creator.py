"""The seed's first example: a user created together with its creator profile."""

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from dreamlust.models import Creator, User
from dreamlust.models.enums import CreatorStatus, UserRole
from dreamlust.users import service
from tests.fixtures.factories import PASSWORD_HASH


async def test_user_and_creator_profile_are_created_in_one_call(session: AsyncSession) -> None:
    user = await service.create_user(
        session,
        service.NewUser(
            email="creator@example.com",
            username="creator123",
            password_hash=PASSWORD_HASH,
            creator=service.NewCreatorProfile(
                display_name="Creator Name", handle="creator", bio="Creator bio"
            ),
        ),
    )
    await session.commit()
    session.expunge_all()

    loaded = (
        await session.execute(
            select(User).where(User.id == user.id).options(selectinload(User.creator))
        )
    ).scalar_one()
    assert loaded.is_creator
    assert loaded.role is UserRole.CREATOR
    assert loaded.creator is not None
    assert loaded.creator.handle == "creator"
    assert loaded.creator.display_name == "Creator Name"
    assert loaded.creator.bio == "Creator bio"
    assert loaded.creator.status is CreatorStatus.PENDING
    assert loaded.creator.user_id == loaded.id
    assert loaded.version == 1


async def test_a_failed_creator_profile_leaves_no_user_behind(session: AsyncSession) -> None:
    first = service.NewCreatorProfile(display_name="First", handle="taken")
    await service.create_user(
        session,
        service.NewUser(email="a@example.com", username="a", password_hash="x", creator=first),
    )
    await session.commit()

    clash = service.NewCreatorProfile(display_name="Second", handle="TAKEN")
    with pytest.raises(IntegrityError):
        await service.create_user(
            session,
            service.NewUser(email="b@example.com", username="b", password_hash="x", creator=clash),
        )
    await session.rollback()

    users = await session.scalar(select(func.count()).select_from(User))
    creators = await session.scalar(select(func.count()).select_from(Creator))
    assert (users, creators) == (1, 1)
