"""HTTP surface of accounts: /users/me, preferences and public profiles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Response, status

from dreamlust.auth.dependencies import CurrentUser
from dreamlust.dependencies import DbSession
from dreamlust.kit.preconditions import IfMatch, expected_version, set_etag
from dreamlust.kit.schemas import SingleLine
from dreamlust.models import User
from dreamlust.request_session import api_router
from dreamlust.users import service
from dreamlust.users.preferences import Preferences, PreferencesUpdate
from dreamlust.users.schemas import AccountDeletion, ProfileUpdate, UserPrivate, UserPublic

router = api_router(tags=["users"])


@router.get("/users/me", response_model=UserPrivate)
async def read_me(user: CurrentUser, response: Response) -> User:
    set_etag(response, user)
    return user


@router.patch("/users/me", response_model=UserPrivate)
async def update_me(
    changes: ProfileUpdate,
    user: CurrentUser,
    session: DbSession,
    response: Response,
    if_match: IfMatch = None,
) -> User:
    version = expected_version(if_match, changes.version)
    values = changes.model_dump(exclude_unset=True, exclude={"version"})
    updated = await service.update_profile(session, user, values, expected_version=version)
    set_etag(response, updated)
    return updated


@router.delete("/users/me", status_code=status.HTTP_204_NO_CONTENT)
async def delete_me(confirmation: AccountDeletion, user: CurrentUser, session: DbSession) -> None:
    await service.delete_account(session, user, confirmation.password)


@router.get("/users/me/preferences", response_model=Preferences)
async def read_preferences(user: CurrentUser) -> Preferences:
    return Preferences.of(user.preferences)


@router.patch("/users/me/preferences", response_model=Preferences)
async def update_preferences(
    changes: PreferencesUpdate, user: CurrentUser, session: DbSession
) -> Preferences:
    return await service.update_preferences(session, user, changes)


@router.get("/users/{username}", response_model=UserPublic)
async def read_profile(username: Annotated[str, Path(), SingleLine], session: DbSession) -> User:
    return await service.public_profile(session, username)
