"""No response ever carries a password hash, a stored token hash or a password."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import EmailToken, RefreshToken, User
from dreamlust.models.enums import UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import (
    STRONG_PASSWORD,
    bearer,
    headers_for,
    login,
    make_account,
    token_from_last_mail,
)
from tests.fixtures.factories import PASSWORD

NEW_PASSWORD = "quiet-harbor-lantern-97"
ALWAYS_FORBIDDEN = ("$argon2", "password_hash", "token_hash", STRONG_PASSWORD, NEW_PASSWORD)


async def stored_secrets(session: AsyncSession) -> list[str]:
    password_hashes = await session.scalars(
        select(User.password_hash).execution_options(**{INCLUDE_DELETED: True})
    )
    refresh_hashes = await session.scalars(select(RefreshToken.token_hash))
    email_hashes = await session.scalars(select(EmailToken.token_hash))
    secrets = [*password_hashes, *refresh_hashes, *email_hashes]
    await session.commit()
    return secrets


async def test_no_response_reveals_a_hash_or_a_password(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    responses: list[httpx.Response] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        responses.append(response)

    client.event_hooks["response"].append(keep)
    admin = await make_account(session, role=UserRole.ADMIN)
    staff = headers_for(runtime, admin)
    api = "/api/v1"

    registration = {"email": "mia@example.com", "username": "mia", "password": STRONG_PASSWORD}
    registered = await client.post(f"{api}/auth/register", json=registration)
    assert registered.status_code == 201
    user_id = registered.json()["id"]
    verification = token_from_last_mail(settings.mail_dir, "mia@example.com")
    verified = await client.post(f"{api}/auth/verify-email", json={"token": verification})
    assert verified.status_code == 200
    weak = await client.post(
        f"{api}/auth/register",
        json={**registration, "username": "mia2", "password": "password1"},
    )
    assert weak.status_code == 422

    wrong = await client.post(
        f"{api}/auth/login", json={"login": "mia", "password": STRONG_PASSWORD + "!"}
    )
    assert wrong.status_code == 401
    first = await login(client, "mia", STRONG_PASSWORD)
    refreshed = await client.post(
        f"{api}/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert refreshed.status_code == 200
    replayed = await client.post(
        f"{api}/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert replayed.status_code == 401
    pair = await login(client, "mia", STRONG_PASSWORD)
    mine = bearer(pair["access_token"])

    me = await client.get(f"{api}/users/me", headers=mine)
    assert me.status_code == 200
    patched = await client.patch(
        f"{api}/users/me",
        json={"bio": "Hello"},
        headers={**mine, "If-Match": me.headers["etag"]},
    )
    assert patched.status_code == 200
    stale = await client.patch(
        f"{api}/users/me", json={"bio": "Stale"}, headers={**mine, "If-Match": me.headers["etag"]}
    )
    assert stale.status_code == 412
    invalid = await client.patch(
        f"{api}/users/me", json={"password": STRONG_PASSWORD, "version": 2}, headers=mine
    )
    assert invalid.status_code == 422
    assert (await client.get(f"{api}/users/me/preferences", headers=mine)).status_code == 200
    preferences = await client.patch(
        f"{api}/users/me/preferences", json={"nsfw_policy": "blur"}, headers=mine
    )
    assert preferences.status_code == 200
    resent = await client.post(f"{api}/auth/verify-email/resend", headers=mine)
    assert resent.status_code == 202
    assert (await client.get(f"{api}/users/mia")).status_code == 200

    listed = await client.get(f"{api}/admin/users", params={"q": "mia"}, headers=staff)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [user_id]
    one = await client.get(f"{api}/admin/users/{user_id}", headers=staff)
    assert one.status_code == 200
    suspended = await client.patch(
        f"{api}/admin/users/{user_id}",
        json={"status": "SUSPENDED"},
        headers={**staff, "If-Match": one.headers["etag"]},
    )
    assert suspended.status_code == 200
    reactivated = await client.patch(
        f"{api}/admin/users/{user_id}",
        json={"status": "ACTIVE", "version": suspended.json()["version"]},
        headers=staff,
    )
    assert reactivated.status_code == 200

    asked = await client.post(f"{api}/auth/password-reset", json={"email": "mia@example.com"})
    assert asked.status_code == 202
    reset_token = token_from_last_mail(settings.mail_dir, "mia@example.com")
    reset = await client.post(
        f"{api}/auth/password-reset/confirm",
        json={"token": reset_token, "new_password": NEW_PASSWORD},
    )
    assert reset.status_code == 204
    pair = await login(client, "mia", NEW_PASSWORD)
    mine = bearer(pair["access_token"])
    out = await client.post(
        f"{api}/auth/logout", json={"refresh_token": pair["refresh_token"]}, headers=mine
    )
    assert out.status_code == 204
    mine = bearer((await login(client, "mia", NEW_PASSWORD))["access_token"])
    refused = await client.request(
        "DELETE", f"{api}/users/me", json={"password": STRONG_PASSWORD}, headers=mine
    )
    assert refused.status_code == 403
    deleted = await client.request(
        "DELETE", f"{api}/users/me", json={"password": NEW_PASSWORD}, headers=mine
    )
    assert deleted.status_code == 204
    restored = await client.post(f"{api}/admin/users/{user_id}/restore", headers=staff)
    assert restored.status_code == 200
    everyone = await client.get(
        f"{api}/admin/users", params={"include_deleted": "true"}, headers=staff
    )
    assert everyone.status_code == 200

    secrets = await stored_secrets(session)
    assert len(secrets) == 2 + 5 + 2, "two password hashes, five refresh and two e-mail tokens"
    forbidden = [*ALWAYS_FORBIDDEN, PASSWORD, *secrets]
    assert len(responses) == 29, "every request above is checked"
    for response in responses:
        exposed = response.text + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        for secret in forbidden:
            assert secret not in exposed, (response.request.method, response.request.url)
