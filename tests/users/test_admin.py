"""Account administration: listing, role and status changes, the audit trail."""

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.models import AuditLogEntry, RefreshToken, User
from dreamlust.models.enums import UserRole, UserStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import bearer, headers_for, login, make_account, reload
from tests.fixtures.factories import PASSWORD

USERS = "/api/v1/admin/users"


def user_path(user: User) -> str:
    return f"{USERS}/{user.id}"


async def audit_entries(session: AsyncSession, target: User) -> list[AuditLogEntry]:
    entries = list(
        await session.scalars(
            select(AuditLogEntry)
            .where(AuditLogEntry.target_id == target.id)
            .order_by(AuditLogEntry.created_at, AuditLogEntry.id)
        )
    )
    await session.commit()
    return entries


async def usernames(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> set[str]:
    response = await client.get(USERS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    return {item["username"] for item in response.json()["items"]}


async def test_the_list_filters_by_role_status_and_text(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN, username="chief")
    await make_account(session, role=UserRole.MODERATOR, username="warden")
    await make_account(session, username="moon_walker", display_name="Luna")
    await make_account(session, username="sunny", display_name="Moonlight Rider")
    await make_account(session, username="stargazer", email="MOONBEAM@example.com")
    await make_account(session, username="grumpy", status=UserStatus.SUSPENDED)
    await make_account(session, username="spammer", status=UserStatus.BANNED)
    await make_account(session, username="gone", deleted_at=utcnow())
    headers = headers_for(runtime, admin)

    assert await usernames(client, headers, role="MODERATOR") == {"warden"}
    assert await usernames(client, headers, role="ADMIN") == {"chief"}
    assert await usernames(client, headers, status="SUSPENDED") == {"grumpy"}
    assert await usernames(client, headers, status="BANNED") == {"spammer"}
    assert await usernames(client, headers, q="MoOn") == {"moon_walker", "sunny", "stargazer"}
    assert await usernames(client, headers, q="moon", role="USER", status="ACTIVE") == {
        "moon_walker",
        "sunny",
        "stargazer",
    }
    assert await usernames(client, headers, q="100%") == set()
    assert "gone" not in await usernames(client, headers)
    assert "gone" in await usernames(client, headers, include_deleted="true")


@pytest.mark.parametrize(
    "params",
    [{"role": "EMPEROR"}, {"status": "ASLEEP"}, {"q": ""}, {"q": "x" * 101}, {"limit": 0}],
)
async def test_invalid_list_filters_are_422(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, params: dict[str, Any]
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    response = await client.get(USERS, params=params, headers=headers_for(runtime, admin))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_walking_the_pages_lists_every_user_once(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    others = [await make_account(session) for _ in range(10)]
    expected = {str(user.id) for user in [admin, *others]}
    headers = headers_for(runtime, admin)

    seen: list[str] = []
    page_sizes: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        response = await client.get(USERS, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(item["id"] for item in page["items"])
        page_sizes.append(len(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert page_sizes == [3, 3, 3, 2]
    assert len(seen) == len(set(seen)) == len(expected)
    assert set(seen) == expected
    created = [
        item["created_at"] for item in (await client.get(USERS, headers=headers)).json()["items"]
    ]
    assert created == sorted(created, reverse=True), "newest first"


async def test_a_forged_cursor_is_400(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    response = await client.get(
        USERS, params={"cursor": "bm90LWEtY3Vyc29y"}, headers=headers_for(runtime, admin)
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


async def test_reading_one_user_shows_the_admin_view_with_an_etag(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    user = await make_account(session, deleted_at=utcnow())
    headers = headers_for(runtime, admin)

    response = await client.get(user_path(user), headers=headers)

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json()["email"] == user.email
    assert response.json()["deleted_at"] is not None
    missing = await client.get(f"{USERS}/{new_id()}", headers=headers)
    assert missing.status_code == 404


async def test_role_and_status_changes_are_audited_with_before_and_after(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    user = await make_account(session)
    headers = headers_for(runtime, admin)

    promoted = await client.patch(
        user_path(user), json={"role": "MODERATOR"}, headers={**headers, "If-Match": '"1"'}
    )
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["role"] == "MODERATOR"
    assert promoted.headers["etag"] == '"2"'
    suspended = await client.patch(
        user_path(user), json={"status": "SUSPENDED", "version": 2}, headers=headers
    )
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["status"] == "SUSPENDED"

    entries = await audit_entries(session, user)
    assert [(entry.action, entry.actor_id, entry.target_type) for entry in entries] == [
        ("user.update", admin.id, "user"),
        ("user.update", admin.id, "user"),
    ]
    assert [entry.details for entry in entries] == [
        {
            "before": {"role": "USER", "status": "ACTIVE"},
            "after": {"role": "MODERATOR", "status": "ACTIVE"},
        },
        {
            "before": {"role": "MODERATOR", "status": "ACTIVE"},
            "after": {"role": "MODERATOR", "status": "SUSPENDED"},
        },
    ]
    stored = await reload(session, user)
    assert (stored.role, stored.status, stored.version) == (
        UserRole.MODERATOR,
        UserStatus.SUSPENDED,
        3,
    )


@pytest.mark.parametrize("status", [UserStatus.BANNED, UserStatus.SUSPENDED])
async def test_banning_or_suspending_signs_the_user_out_everywhere(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, status: UserStatus
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    user = await make_account(session)
    pairs = [await login(client, user.username) for _ in range(2)]
    assert (
        await client.get("/api/v1/users/me", headers=bearer(pairs[0]["access_token"]))
    ).is_success

    response = await client.patch(
        user_path(user),
        json={"status": status.value},
        headers={**headers_for(runtime, admin), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text

    for pair in pairs:
        me = await client.get("/api/v1/users/me", headers=bearer(pair["access_token"]))
        assert me.status_code == 401
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
        )
        assert refreshed.status_code == 401
    revoked = list(
        await session.scalars(
            select(RefreshToken.revoked_at).where(RefreshToken.user_id == user.id)
        )
    )
    await session.commit()
    assert len(revoked) == 2
    assert all(moment is not None for moment in revoked)


async def test_reactivating_a_banned_user_lets_them_sign_in_again(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    user = await make_account(session, status=UserStatus.BANNED)
    refused = await client.post(
        "/api/v1/auth/login", json={"login": user.username, "password": PASSWORD}
    )
    assert refused.status_code == 403

    response = await client.patch(
        user_path(user),
        json={"status": "ACTIVE", "version": 1},
        headers=headers_for(runtime, admin),
    )

    assert response.status_code == 200, response.text
    await login(client, user.username)


@pytest.mark.parametrize("change", [{"role": "USER"}, {"status": "SUSPENDED"}])
async def test_an_admin_cannot_change_their_own_role_or_status(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, change: dict[str, str]
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    response = await client.patch(
        user_path(admin), json=change, headers={**headers_for(runtime, admin), "If-Match": '"1"'}
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    stored = await reload(session, admin)
    assert (stored.role, stored.status, stored.version) == (UserRole.ADMIN, UserStatus.ACTIVE, 1)
    assert await audit_entries(session, admin) == []


async def test_an_admin_change_needs_the_version(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    user = await make_account(session)
    headers = headers_for(runtime, admin)

    missing = await client.patch(user_path(user), json={"status": "BANNED"}, headers=headers)
    assert missing.status_code == 428
    stale_header = await client.patch(
        user_path(user), json={"status": "BANNED"}, headers={**headers, "If-Match": '"7"'}
    )
    assert stale_header.status_code == 412
    stale_body = await client.patch(
        user_path(user), json={"status": "BANNED", "version": 7}, headers=headers
    )
    assert stale_body.status_code == 409

    stored = await reload(session, user)
    assert (stored.status, stored.version) == (UserStatus.ACTIVE, 1)
    assert await audit_entries(session, user) == []


@pytest.mark.parametrize(
    "body",
    [{"email": "new@example.com", "version": 1}, {"role": "KING", "version": 1}, {"version": 0}],
)
async def test_an_invalid_admin_change_is_422(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, body: dict[str, Any]
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    user = await make_account(session)
    response = await client.patch(user_path(user), json=body, headers=headers_for(runtime, admin))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert (await reload(session, user)).version == 1
