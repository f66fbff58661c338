"""Rules for user accounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Creator, User
from dreamlust.models.enums import CreatorStatus, UserRole
from dreamlust.users.repository import UserRepository


@dataclass(frozen=True)
class NewCreatorProfile:
    display_name: str
    handle: str
    bio: str | None = None


@dataclass(frozen=True)
class NewUser:
    email: str
    username: str
    password_hash: str
    display_name: str | None = None
    role: UserRole = UserRole.USER
    creator: NewCreatorProfile | None = None


async def create_user(session: AsyncSession, new: NewUser) -> User:
    """Create a user, and its creator profile when one is given, in one flush."""
    user = User(
        email=new.email,
        username=new.username,
        password_hash=new.password_hash,
        display_name=new.display_name or new.username,
        role=new.role,
    )
    if new.creator is not None:
        user.is_creator = True
        if not user.role.at_least(UserRole.CREATOR):
            user.role = UserRole.CREATOR
        user.creator = Creator(
            display_name=new.creator.display_name,
            handle=new.creator.handle,
            bio=new.creator.bio,
            status=CreatorStatus.PENDING,
        )
    return await UserRepository(session).add(user)
