"""Rules for user accounts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.auth.passwords import verify_password
from dreamlust.auth.sessions import revoke_all_sessions
from dreamlust.errors import Forbidden, NotFound
from dreamlust.kit.repository import expect_version, soft_delete
from dreamlust.models import Creator, User
from dreamlust.models.enums import CreatorStatus, UserRole, UserStatus
from dreamlust.users.preferences import Preferences, PreferencesUpdate
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
    birth_date: date | None = None
    role: UserRole = UserRole.USER
    creator: NewCreatorProfile | None = None


async def create_user(session: AsyncSession, new: NewUser) -> User:
    """Create a user, and its creator profile when one is given, in one flush."""
    user = User(
        email=new.email,
        username=new.username,
        password_hash=new.password_hash,
        display_name=new.display_name or new.username,
        birth_date=new.birth_date,
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


async def update_profile(
    session: AsyncSession, user: User, changes: dict[str, Any], *, expected_version: int
) -> User:
    expect_version(user, expected_version)
    return await UserRepository(session).update(user, changes)


async def update_preferences(
    session: AsyncSession, user: User, update: PreferencesUpdate
) -> Preferences:
    preferences = update.apply_to(Preferences.of(user.preferences))
    user.preferences = preferences.model_dump(mode="json")
    await session.flush()
    return preferences


async def delete_account(session: AsyncSession, user: User, password: str) -> None:
    """Soft-delete the account after the password confirms it; sign out everywhere."""
    if not await verify_password(user.password_hash, password):
        raise Forbidden("The password is incorrect.")
    await soft_delete(session, user)
    await revoke_all_sessions(session, user.id)


async def public_profile(session: AsyncSession, username: str) -> User:
    return _public(await UserRepository(session).by_username(username))


async def public_account(session: AsyncSession, user_id: uuid.UUID) -> User:
    """The account by id, if its profile is public (as `public_profile`); 404 otherwise."""
    return _public(await UserRepository(session).get(user_id))


def _public(user: User | None) -> User:
    if user is None or user.status is UserStatus.BANNED:
        raise NotFound("No such user.")
    return user
