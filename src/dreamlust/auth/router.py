"""HTTP surface of authentication: /auth/…"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Response, status
from fastapi.responses import JSONResponse

from dreamlust.auth.dependencies import AuthServiceDep, CurrentUser
from dreamlust.auth.schemas import (
    Accepted,
    Credentials,
    EmailTokenRequest,
    PasswordResetConfirmation,
    PasswordResetRequest,
    RefreshRequest,
    Registration,
    TokenPair,
)
from dreamlust.auth.service import REFRESH_REFUSED
from dreamlust.dependencies import ClientAddress, RateLimiterDep
from dreamlust.errors import Unauthorized, problem_response
from dreamlust.kit.rate_limit import Limit
from dreamlust.models import User
from dreamlust.request_session import api_router
from dreamlust.users.schemas import UserPrivate

router = api_router(prefix="/auth", tags=["auth"])
UserAgent = Annotated[str | None, Header(alias="User-Agent")]


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserPrivate)
async def register(
    registration: Registration,
    auth: AuthServiceDep,
    limiter: RateLimiterDep,
    address: ClientAddress,
) -> User:
    await limiter.hit(Limit.REGISTER, address)
    return await auth.register(registration)


@router.post("/login", response_model=TokenPair)
async def login(
    credentials: Credentials,
    auth: AuthServiceDep,
    limiter: RateLimiterDep,
    address: ClientAddress,
    user_agent: UserAgent = None,
) -> TokenPair:
    await limiter.hit(Limit.LOGIN_PER_ADDRESS, address)
    await limiter.hit(Limit.LOGIN_PER_ACCOUNT, credentials.login.lower())
    return await auth.login(credentials, user_agent)


@router.post(
    "/refresh",
    response_model=TokenPair,
    responses={401: {"description": "The refresh token was refused"}},
)
async def refresh(
    body: RefreshRequest, auth: AuthServiceDep, user_agent: UserAgent = None
) -> TokenPair | JSONResponse:
    pair = await auth.refresh(body.refresh_token, user_agent)
    # A refusal may have revoked a token family; answering (not raising) lets that commit.
    return pair if pair is not None else problem_response(Unauthorized(REFRESH_REFUSED))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, user: CurrentUser, auth: AuthServiceDep) -> None:
    await auth.logout(user, body.refresh_token)


@router.post("/verify-email")
async def verify_email(body: EmailTokenRequest, auth: AuthServiceDep) -> dict[str, bool]:
    user = await auth.verify_email(body.token)
    return {"email_verified": user.email_verified}


@router.post("/verify-email/resend", status_code=status.HTTP_202_ACCEPTED)
async def resend_verification(
    user: CurrentUser, auth: AuthServiceDep, limiter: RateLimiterDep
) -> Accepted:
    await limiter.hit(Limit.VERIFICATION_RESEND, str(user.id))
    await auth.resend_verification(user)
    return Accepted()


@router.post("/password-reset", status_code=status.HTTP_202_ACCEPTED)
async def request_password_reset(
    body: PasswordResetRequest,
    auth: AuthServiceDep,
    limiter: RateLimiterDep,
    address: ClientAddress,
) -> Accepted:
    await limiter.hit(Limit.PASSWORD_RESET, address)
    await limiter.hit(Limit.PASSWORD_RESET, body.email.lower())
    await auth.request_password_reset(body.email)
    return Accepted()


@router.post("/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT)
async def confirm_password_reset(
    body: PasswordResetConfirmation,
    auth: AuthServiceDep,
    limiter: RateLimiterDep,
    address: ClientAddress,
) -> Response:
    await limiter.hit(Limit.PASSWORD_RESET, f"confirm:{address}")
    await auth.reset_password(body.token, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
