"""Access tokens end before they expire when the account ends them: signing out, a
password reset, deleting the account, a suspension or ban, a role change by an
administrator, a replayed refresh token. The old token is then a 401 like a forged one,
on a protected route and on a public one that serves signed-in users as themselves; a
token issued afterwards works, and sign-in sessions that were not revoked refresh into
one. (How exactly "before" is told within one second: tests/auth/test_token_attacks.py.)
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.access_tokens import REFUSED_DETAIL
from dreamlust.auth.repository import AccessTokenMarkRepository
from dreamlust.config import Settings
from dreamlust.kit.clock import utcnow
from dreamlust.models import User
from dreamlust.models.enums import UserRole, UserStatus
from dreamlust.runtime import Runtime
from tests.conftest import StatementCounter
from tests.fixtures.accounts import (
    PROTECTED_ROUTE,
    STRONG_PASSWORD,
    bearer,
    headers_for,
    login,
    make_account,
    refusals,
    reload,
    route_statuses,
    token_from_last_mail,
)
from tests.fixtures.factories import PASSWORD

LOGOUT = "/api/v1/auth/logout"
REFRESH = "/api/v1/auth/refresh"
ADMIN_USERS = "/api/v1/admin/users"


async def _assert_revoked(client: httpx.AsyncClient, token: str) -> None:
    problems = await refusals(client, token)
    assert [problem["detail"] for problem in problems] == [REFUSED_DETAIL] * 2


async def _refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": refresh_token})


async def _admin_change(
    client: httpx.AsyncClient, runtime: Runtime, admin: User, user: User, **change: str
) -> None:
    current = await client.get(f"{ADMIN_USERS}/{user.id}", headers=headers_for(runtime, admin))
    response = await client.patch(
        f"{ADMIN_USERS}/{user.id}",
        json=change,
        headers={**headers_for(runtime, admin), "If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200, response.text


async def test_signing_out_ends_every_access_token_and_other_devices_refresh(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(session)
    here = await login(client, user.username)
    elsewhere = await login(client, user.username)
    assert await route_statuses(client, here["access_token"]) == [200, 200]

    out = await client.post(
        LOGOUT,
        json={"refresh_token": here["refresh_token"]},
        headers=bearer(here["access_token"]),
    )
    assert out.status_code == 204

    await _assert_revoked(client, here["access_token"])
    await _assert_revoked(client, elsewhere["access_token"])
    assert (await _refresh(client, here["refresh_token"])).status_code == 401
    refreshed = await _refresh(client, elsewhere["refresh_token"])
    assert refreshed.status_code == 200, "a plain sign-out leaves the other devices' sessions"
    assert await route_statuses(client, refreshed.json()["access_token"]) == [200, 200]
    again = await login(client, user.username)
    assert await route_statuses(client, again["access_token"]) == [200, 200]


async def test_signing_out_is_not_an_edit_of_the_account(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    """The mark moves without the row version, so an If-Match taken before a sign-out
    (on another device) still updates the profile."""
    user = await make_account(session)
    pair = await login(client, user.username)
    etag = (await client.get(PROTECTED_ROUTE, headers=bearer(pair["access_token"]))).headers["etag"]

    await client.post(
        LOGOUT, json={"refresh_token": pair["refresh_token"]}, headers=bearer(pair["access_token"])
    )

    updated = await client.patch(
        PROTECTED_ROUTE,
        json={"bio": "Back again."},
        headers={**headers_for(runtime, user), "If-Match": etag},
    )
    assert updated.status_code == 200, updated.text
    assert (await reload(session, user)).tokens_valid_after is not None


async def test_a_password_reset_ends_every_access_token_issued_before_it(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    user = await make_account(session)
    pairs = [await login(client, user.username) for _ in range(2)]

    asked = await client.post("/api/v1/auth/password-reset", json={"email": user.email})
    assert asked.status_code == 202
    confirmed = await client.post(
        "/api/v1/auth/password-reset/confirm",
        json={
            "token": token_from_last_mail(settings.mail_dir, user.email),
            "new_password": STRONG_PASSWORD,
        },
    )
    assert confirmed.status_code == 204

    for pair in pairs:
        await _assert_revoked(client, pair["access_token"])
        assert (await _refresh(client, pair["refresh_token"])).status_code == 401
    fresh = await login(client, user.username, STRONG_PASSWORD)
    assert await route_statuses(client, fresh["access_token"]) == [200, 200]


async def test_a_deleted_accounts_tokens_stay_ended_once_it_is_restored(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    user = await make_account(session)
    pair = await login(client, user.username)
    deleted = await client.request(
        "DELETE",
        PROTECTED_ROUTE,
        json={"password": PASSWORD},
        headers=bearer(pair["access_token"]),
    )
    assert deleted.status_code == 204

    restored = await client.post(
        f"{ADMIN_USERS}/{user.id}/restore", headers=headers_for(runtime, admin)
    )
    assert restored.status_code == 200, restored.text

    await _assert_revoked(client, pair["access_token"])
    fresh = await login(client, user.username)
    assert await route_statuses(client, fresh["access_token"]) == [200, 200]


async def test_a_suspensions_tokens_stay_ended_once_the_account_is_reactivated(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    user = await make_account(session)
    pair = await login(client, user.username)

    await _admin_change(client, runtime, admin, user, status=UserStatus.SUSPENDED.value)
    await _admin_change(client, runtime, admin, user, status=UserStatus.ACTIVE.value)

    await _assert_revoked(client, pair["access_token"])
    fresh = await login(client, user.username)
    assert await route_statuses(client, fresh["access_token"]) == [200, 200]


async def test_a_role_change_ends_the_access_tokens_and_a_refresh_carries_the_new_role(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    user = await make_account(session)
    pair = await login(client, user.username)

    await _admin_change(client, runtime, admin, user, role=UserRole.MODERATOR.value)

    await _assert_revoked(client, pair["access_token"])
    refreshed = await _refresh(client, pair["refresh_token"])
    assert refreshed.status_code == 200, "a role change keeps the sign-in sessions"
    token = refreshed.json()["access_token"]
    assert runtime.access_tokens.decode(token).role is UserRole.MODERATOR
    assert await route_statuses(client, token) == [200, 200]


async def test_replaying_a_rotated_refresh_token_ends_the_access_token_it_was_rotated_into(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    """Whoever rotated a leaked refresh token first holds an access token; the replay by
    the other holder ends it along with the family."""
    user = await make_account(session)
    leaked = await login(client, user.username)
    taken = await _refresh(client, leaked["refresh_token"])
    assert taken.status_code == 200

    assert (await _refresh(client, leaked["refresh_token"])).status_code == 401

    await _assert_revoked(client, taken.json()["access_token"])
    assert (await _refresh(client, taken.json()["refresh_token"])).status_code == 401


async def test_the_mark_only_moves_forward(session: AsyncSession) -> None:
    """Of two sign-outs whose transactions commit in the other order, the later stays."""
    user = await make_account(session)
    later = utcnow()
    marks = AccessTokenMarkRepository(session)

    await marks.refuse_issued_before(user.id, later)
    await marks.refuse_issued_before(user.id, later - timedelta(seconds=1))
    await session.commit()

    assert (await reload(session, user)).tokens_valid_after == later


async def test_checking_the_mark_costs_no_statement(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    count_statements: StatementCounter,
) -> None:
    """Reading one's profile is the one statement that reads the account, which carries
    the mark: with no mark, past a mark, and refused by one."""
    unmarked = await make_account(session)
    marked = await make_account(session, tokens_valid_after=utcnow() - timedelta(minutes=1))
    revoked = await make_account(session)
    revoked_headers = headers_for(runtime, revoked)
    await AccessTokenMarkRepository(session).refuse_issued_before(revoked.id, utcnow())
    await session.commit()

    requests = [
        (headers_for(runtime, unmarked), 200),
        (headers_for(runtime, marked), 200),
        (revoked_headers, 401),
    ]
    for headers, status in requests:
        before = count_statements.count
        response = await client.get(PROTECTED_ROUTE, headers=headers)
        assert response.status_code == status
        assert count_statements.count - before == 1, count_statements.statements[before:]
