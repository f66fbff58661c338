"""Nothing tells whether an account exists: not login, not password reset, not registration."""

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.fixtures.accounts import STRONG_PASSWORD, make_account

LOGIN = "/api/v1/auth/login"


async def test_unknown_user_and_wrong_password_look_the_same(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(session)
    wrong_password = await client.post(
        LOGIN, json={"login": user.username, "password": "not-the-password-123"}
    )
    unknown_user = await client.post(
        LOGIN, json={"login": "nobody-here", "password": "not-the-password-123"}
    )

    assert wrong_password.status_code == unknown_user.status_code == 401
    assert wrong_password.json() == unknown_user.json()
    assert wrong_password.headers["www-authenticate"] == unknown_user.headers["www-authenticate"]


async def test_password_reset_answers_alike_for_any_address(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(session)
    known = await client.post("/api/v1/auth/password-reset", json={"email": user.email})
    unknown = await client.post("/api/v1/auth/password-reset", json={"email": "ghost@example.com"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()


async def test_registration_conflicts_only_say_unavailable(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(session)
    by_email = await client.post(
        "/api/v1/auth/register",
        json={"email": user.email.upper(), "username": "fresh_name", "password": STRONG_PASSWORD},
    )
    by_username = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "fresh@example.com",
            "username": user.username.upper(),
            "password": STRONG_PASSWORD,
        },
    )
    assert by_email.status_code == by_username.status_code == 409
    assert by_email.json() == by_username.json()
    assert "unavailable" in by_email.json()["detail"]
