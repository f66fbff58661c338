"""Who is calling: typed dependencies that make each route's rights readable."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.access_tokens import REFUSED_DETAIL
from dreamlust.auth.service import AuthService, blocked_reason
from dreamlust.dependencies import DbSession, RuntimeDep
from dreamlust.errors import Forbidden, Unauthorized
from dreamlust.kit.request_context import identify_user
from dreamlust.models import User
from dreamlust.models.enums import UserRole
from dreamlust.runtime import runtime_of
from dreamlust.users.repository import UserRepository

_SIGN_IN = "Sign in to do this."
_bearer = HTTPBearer(auto_error=False, description="An access token from /auth/login.")
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def optional_user(
    credentials: BearerCredentials, session: DbSession, request: Request
) -> User | None:
    """The signed-in user, None for anonymous callers; a bad token is still a 401.

    The account is read on every request, so a suspension, ban or deletion takes
    effect at once, and so does a change of role; so does a sign-out, password reset
    or anything else that ended the account's tokens after this one was issued.
    """
    if credentials is None:
        return None
    claims = runtime_of(request).access_tokens.decode(credentials.credentials)
    identify_user(claims.user_id)
    user = await UserRepository(session).get(claims.user_id)
    if user is None:
        raise Unauthorized("The account no longer exists.")
    if reason := blocked_reason(user):
        raise Unauthorized(f"This account is {reason}.")
    if claims.revoked_for(user):
        raise Unauthorized(REFUSED_DETAIL)
    return user


async def signed_in_user(request: Request, session: AsyncSession) -> User | None:
    """`optional_user` called from inside another dependency, without dependency
    nodes of its own; a route that uses it declares `OPTIONAL_BEARER` in its OpenAPI."""
    return await optional_user(await _bearer(request), session, request)


# The security of a route that serves everyone, and signed-in users as themselves.
OPTIONAL_BEARER: dict[str, Any] = {"security": [{_bearer.scheme_name: []}, {}]}
# The security of a route that reads its signed-in user itself (`required_user`).
REQUIRED_BEARER: dict[str, Any] = {"security": [{_bearer.scheme_name: []}]}


async def required_user(request: Request, session: AsyncSession) -> User:
    """`current_user` called by a route itself, without dependency nodes of its own (for
    the most frequent writes); the route declares `REQUIRED_BEARER` in its OpenAPI."""
    user = await signed_in_user(request, session)
    if user is None:
        raise Unauthorized(_SIGN_IN)
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]


async def current_user(user: OptionalUser) -> User:
    if user is None:
        raise Unauthorized(_SIGN_IN)
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def _require(role: UserRole) -> Any:
    async def dependency(user: CurrentUser) -> User:
        if not user.role.at_least(role):
            raise Forbidden(f"This needs the {role.value} role.")
        return user

    return Depends(dependency)


CreatorUser = Annotated[User, _require(UserRole.CREATOR)]
Staff = Annotated[User, _require(UserRole.MODERATOR)]
Admin = Annotated[User, _require(UserRole.ADMIN)]


async def get_auth_service(session: DbSession, runtime: RuntimeDep) -> AuthService:
    return AuthService(session, runtime.settings, runtime.access_tokens, runtime.mailer)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]
