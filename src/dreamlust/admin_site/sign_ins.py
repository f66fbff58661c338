"""Signing in to the admin page, and who a signed-in browser is on each request.

Signing in is the API's own login (`AuthService.login`: the password hasher, the blocked
account rules, the record of the sign-in), in a transaction that is rolled back when the
account is not an active administrator. The sign-in session it opens (a refresh token
row) stands for the browser's session: the browser's cookie holds the hash of that token,
never the token, so it cannot be turned into API tokens. Everything that signs an account
out everywhere (suspension, ban, password reset) therefore signs it out of the admin page
too, and signing out of the page revokes the row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.auth.schemas import Credentials
from dreamlust.auth.service import AuthService
from dreamlust.errors import Forbidden
from dreamlust.kit.clock import utcnow
from dreamlust.kit.keys import hash_token
from dreamlust.models import RefreshToken, User
from dreamlust.models.enums import UserRole, UserStatus
from dreamlust.runtime import Runtime
from dreamlust.users.repository import UserRepository

NOT_AN_ADMINISTRATOR = "Only active administrators may use the admin page."


class NotAnAdministrator(Forbidden):
    def __init__(self) -> None:
        super().__init__(NOT_AN_ADMINISTRATOR)


@dataclass(frozen=True)
class AdminSignIn:
    user_id: uuid.UUID
    # The hash of the sign-in's refresh token: what the browser's cookie holds.
    token_hash: str


def _may_administer(user: User) -> bool:
    return user.role is UserRole.ADMIN and user.status is UserStatus.ACTIVE


async def sign_in(
    session: AsyncSession, runtime: Runtime, credentials: Credentials, user_agent: str | None
) -> AdminSignIn:
    """Check the credentials as the API's login does; refuse accounts that are not
    active administrators (the caller rolls back, so nothing of the login is kept)."""
    auth = AuthService(session, runtime.settings, runtime.access_tokens, runtime.mailer)
    pair = await auth.login(credentials, f"admin page; {user_agent or 'unknown browser'}"[:512])
    user_id = runtime.access_tokens.decode(pair.access_token).user_id
    user = await UserRepository(session).get(user_id)
    if user is None or not _may_administer(user):
        raise NotAnAdministrator()
    return AdminSignIn(user_id=user.id, token_hash=hash_token(pair.refresh_token))


async def administrator_of(session: AsyncSession, token_hash: str) -> User | None:
    """The account signed in with this sign-in, if it is live and the account is still
    an active administrator (one statement, run on every request of the page)."""
    stmt = (
        select(User)
        .join(RefreshToken, RefreshToken.user_id == User.id)
        .where(
            RefreshToken.token_hash == token_hash,
            RefreshToken.revoked_at.is_(None),
            RefreshToken.rotated_at.is_(None),
            RefreshToken.expires_at > utcnow(),
            User.role == UserRole.ADMIN,
            User.status == UserStatus.ACTIVE,
        )
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def acting_administrator(session: AsyncSession, user_id: uuid.UUID) -> User:
    """The administrator taking a decision, read in the decision's own transaction."""
    user = await UserRepository(session).get(user_id)
    if user is None or not _may_administer(user):
        raise NotAnAdministrator()
    return user


async def sign_out(session: AsyncSession, token_hash: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == token_hash, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
