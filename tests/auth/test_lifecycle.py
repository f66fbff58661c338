"""The whole life of an account: register, verify, sign in, refresh, sign out, reset."""

from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.kit.clock import utcnow
from dreamlust.models import EmailToken
from tests.fixtures.accounts import STRONG_PASSWORD, bearer, login, mails, token_from_last_mail

REGISTRATION = {"email": "Mia@Example.com", "username": "mia", "password": STRONG_PASSWORD}
MAILBOX = "Mia@example.com"  # the domain of an address is case-insensitive and normalized


async def test_register_verify_login_refresh_logout(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    registered = await client.post("/api/v1/auth/register", json=REGISTRATION)
    assert registered.status_code == 201, registered.text
    account = registered.json()
    assert account["username"] == "mia"
    assert account["email_verified"] is False
    assert "password" not in registered.text

    token = token_from_last_mail(settings.mail_dir, MAILBOX)
    verified = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200
    assert verified.json() == {"email_verified": True}
    again = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert again.status_code == 400, "a verification token works once"

    pair = await login(client, "MIA@example.com", STRONG_PASSWORD)
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == settings.access_token_minutes * 60
    me = await client.get("/api/v1/users/me", headers=bearer(pair["access_token"]))
    assert me.status_code == 200
    assert me.json()["email_verified"] is True
    assert me.headers["etag"] == f'"{me.json()["version"]}"'

    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert refreshed.status_code == 200
    new_pair = refreshed.json()
    assert new_pair["refresh_token"] != pair["refresh_token"]

    out = await client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": new_pair["refresh_token"]},
        headers=bearer(new_pair["access_token"]),
    )
    assert out.status_code == 204
    after_logout = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": new_pair["refresh_token"]}
    )
    assert after_logout.status_code == 401


async def test_login_by_username_or_email_ignores_case(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/auth/register", json=REGISTRATION)
    for name in ("mia", "MIA", "mia@example.com"):
        await login(client, name, STRONG_PASSWORD)


async def test_password_reset_by_mail_revokes_every_session(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await client.post("/api/v1/auth/register", json=REGISTRATION)
    sessions = [await login(client, "mia", STRONG_PASSWORD) for _ in range(3)]

    asked = await client.post("/api/v1/auth/password-reset", json={"email": "mia@example.com"})
    assert asked.status_code == 202
    token = token_from_last_mail(settings.mail_dir, MAILBOX)
    new_password = "quiet-harbor-lantern-97"
    confirmed = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": new_password}
    )
    assert confirmed.status_code == 204

    for pair in sessions:
        response = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        )
        assert response.status_code == 401
    old = await client.post(
        "/api/v1/auth/login", json={"login": "mia", "password": STRONG_PASSWORD}
    )
    assert old.status_code == 401
    await login(client, "mia", new_password)

    reused = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "another-fresh-secret-55"},
    )
    assert reused.status_code == 400, "a reset token works once"


async def test_a_weak_new_password_leaves_the_reset_token_usable(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await client.post("/api/v1/auth/register", json=REGISTRATION)
    await client.post("/api/v1/auth/password-reset", json={"email": "mia@example.com"})
    token = token_from_last_mail(settings.mail_dir, MAILBOX)

    weak = await client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": "password1"}
    )
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["loc"] == ["body", "new_password"]
    strong = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": token, "new_password": "quiet-harbor-lantern-97"},
    )
    assert strong.status_code == 204


async def test_expired_tokens_are_refused(
    client: httpx.AsyncClient, settings: Settings, session: AsyncSession
) -> None:
    await client.post("/api/v1/auth/register", json=REGISTRATION)
    token = token_from_last_mail(settings.mail_dir, MAILBOX)
    await session.execute(update(EmailToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    await session.commit()
    response = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_resending_verification_mails_a_new_link(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await client.post("/api/v1/auth/register", json=REGISTRATION)
    pair = await login(client, "mia", STRONG_PASSWORD)
    resent = await client.post(
        "/api/v1/auth/verify-email/resend", headers=bearer(pair["access_token"])
    )
    assert resent.status_code == 202
    sent = mails(settings.mail_dir, MAILBOX)
    assert len(sent) == 2
    token = token_from_last_mail(settings.mail_dir, MAILBOX)
    assert (
        await client.post("/api/v1/auth/verify-email", json={"token": token})
    ).status_code == 200
