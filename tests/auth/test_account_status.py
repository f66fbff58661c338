"""Suspensions, bans and deletions bite at once; rate limits stop guessing."""

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.kit.clock import utcnow
from dreamlust.models import User
from dreamlust.models.enums import UserStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import bearer, headers_for, login, make_account
from tests.fixtures.factories import PASSWORD


@pytest.mark.parametrize("status", [UserStatus.BANNED, UserStatus.SUSPENDED])
async def test_a_blocked_users_unexpired_access_token_stops_working(
    client: httpx.AsyncClient, session: AsyncSession, status: UserStatus
) -> None:
    user = await make_account(session)
    pair = await login(client, user.username)
    assert (await client.get("/api/v1/users/me", headers=bearer(pair["access_token"]))).is_success

    await session.execute(update(User).where(User.id == user.id).values(status=status))
    await session.commit()

    refused = await client.get("/api/v1/users/me", headers=bearer(pair["access_token"]))
    assert refused.status_code == 401
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert refresh.status_code == 401
    login_again = await client.post(
        "/api/v1/auth/login", json={"login": user.username, "password": PASSWORD}
    )
    assert login_again.status_code == 403


async def test_a_deleted_users_access_token_stops_working(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    headers = headers_for(runtime, user)
    await session.execute(update(User).where(User.id == user.id).values(deleted_at=utcnow()))
    await session.commit()
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 401


async def test_forged_and_expired_access_tokens_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    user = await make_account(session)
    token = runtime.access_tokens.issue(user)
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    for bad in (forged, "garbage", token + "x"):
        response = await client.get("/api/v1/users/me", headers=bearer(bad))
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"

    from datetime import timedelta

    from dreamlust.access_tokens import AccessTokens

    expired = AccessTokens(settings.signing_key(), timedelta(seconds=-1)).issue(user)
    assert (await client.get("/api/v1/users/me", headers=bearer(expired))).status_code == 401


async def test_the_login_after_the_limit_is_429_with_retry_after(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_account(session)
    allowed = int(settings.rate_limit_login_per_account.split("/")[0])
    for _ in range(allowed):
        response = await client.post(
            "/api/v1/auth/login", json={"login": user.username, "password": "wrong-guess-123"}
        )
        assert response.status_code == 401
    limited = await client.post(
        "/api/v1/auth/login", json={"login": user.username, "password": PASSWORD}
    )
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.headers["content-type"] == "application/problem+json"
