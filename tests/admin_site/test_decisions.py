"""Decisions on the admin page go through the API's services: audited, version-checked,
confirmed by a POST with the session's CSRF token; no route writes a row otherwise."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.models import AuditLogEntry, Creator, RefreshToken, User
from dreamlust.models.enums import CreatorStatus, UserRole, UserStatus
from tests.admin_site.conftest import ADMIN, csrf_token_of, sign_in
from tests.fixtures.accounts import login, make_account, reload
from tests.fixtures.factories import make_creator


async def audit_of(session: AsyncSession, target_id: object) -> list[AuditLogEntry]:
    entries = list(
        await session.scalars(
            select(AuditLogEntry)
            .where(AuditLogEntry.target_id == target_id)
            .order_by(AuditLogEntry.created_at)
        )
    )
    await session.commit()
    return entries


async def signed_in_admin(page: httpx.AsyncClient, session: AsyncSession) -> User:
    admin = await make_account(session, role=UserRole.ADMIN, username="chief")
    assert (await sign_in(page, "chief")).status_code == 302
    return admin


async def confirmation(page: httpx.AsyncClient, view: str, decision: str, *rows: object) -> str:
    """Open a decision's confirmation page; its CSRF token."""
    shown = await page.get(
        f"{ADMIN}/{view}/action/{decision}", params={"pks": ",".join(map(str, rows))}
    )
    assert shown.status_code == 200, shown.text
    return csrf_token_of(shown)


async def decide(
    page: httpx.AsyncClient,
    view: str,
    decision: str,
    targets: list[tuple[object, int]],
    token: str,
    reason: str = "",
) -> httpx.Response:
    return await page.post(
        f"{ADMIN}/{view}/decide/{decision}",
        data={
            "csrf_token": token,
            "target": [f"{row_id}:{version}" for row_id, version in targets],
            "reason": reason,
        },
    )


async def test_suspending_an_account_is_the_apis_audited_status_change(
    page: httpx.AsyncClient, session: AsyncSession, client: httpx.AsyncClient
) -> None:
    admin = await signed_in_admin(page, session)
    user = await make_account(session, username="mallory")
    version = user.version
    await login(client, "mallory")
    token = await confirmation(page, "user", "suspend", user.id)
    assert (await reload(session, user)).status is UserStatus.ACTIVE  # a GET changes nothing

    done = await decide(page, "user", "suspend", [(user.id, version)], token)

    assert done.status_code == 303
    assert done.headers["location"].endswith(f"{ADMIN}/user/details/{user.id}")
    suspended = await reload(session, user)
    assert suspended.status is UserStatus.SUSPENDED
    assert suspended.version == version + 1
    [entry] = await audit_of(session, user.id)
    assert (entry.actor_id, entry.action) == (admin.id, "user.update")
    assert entry.details == {
        "before": {"role": "USER", "status": "ACTIVE"},
        "after": {"role": "USER", "status": "SUSPENDED"},
    }
    live_tokens = await session.scalars(
        select(RefreshToken).where(
            RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None)
        )
    )
    assert list(live_tokens) == []
    await session.commit()
    details = await page.get(done.headers["location"])
    assert "SUSPENDED" in details.text


async def test_a_stale_version_is_refused_and_nothing_changes(
    page: httpx.AsyncClient, session: AsyncSession
) -> None:
    await signed_in_admin(page, session)
    alice = await make_account(session, username="alice")
    bob = await make_account(session, username="bob")
    token = await confirmation(page, "user", "ban", alice.id, bob.id)

    refused = await decide(
        page, "user", "ban", [(alice.id, alice.version), (bob.id, bob.version + 1)], token
    )

    assert refused.status_code == 409
    assert 'id="decision-error"' in refused.text
    assert "not 2" in refused.text
    for user in (alice, bob):
        assert (await reload(session, user)).status is UserStatus.ACTIVE
        assert await audit_of(session, user.id) == []


async def test_the_services_rules_hold_on_the_page(
    page: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await signed_in_admin(page, session)
    token = await confirmation(page, "user", "suspend", admin.id)

    refused = await decide(page, "user", "suspend", [(admin.id, admin.version)], token)

    assert refused.status_code == 403
    assert "cannot change their own role or status" in refused.text
    assert (await reload(session, admin)).status is UserStatus.ACTIVE


@pytest.mark.parametrize("token", ["", "forged-token"])
async def test_a_decision_without_the_sessions_csrf_token_is_refused(
    page: httpx.AsyncClient, session: AsyncSession, token: str
) -> None:
    await signed_in_admin(page, session)
    user = await make_account(session, username="mallory")

    refused = await decide(page, "user", "suspend", [(user.id, user.version)], token)

    assert refused.status_code == 403
    assert (await reload(session, user)).status is UserStatus.ACTIVE


async def test_the_csrf_token_is_the_sign_ins_own(
    page: httpx.AsyncClient, session: AsyncSession
) -> None:
    await signed_in_admin(page, session)
    user = await make_account(session, username="mallory")
    old_token = await confirmation(page, "user", "suspend", user.id)
    page.cookies.clear()
    assert (await sign_in(page, "chief")).status_code == 302

    refused = await decide(page, "user", "suspend", [(user.id, user.version)], old_token)

    assert refused.status_code == 403
    assert (await reload(session, user)).status is UserStatus.ACTIVE


async def test_a_decision_needs_a_signed_in_administrator(
    page: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(session, username="mallory")

    refused = await decide(page, "user", "suspend", [(user.id, user.version)], "any")

    assert refused.status_code == 302
    assert (await reload(session, user)).status is UserStatus.ACTIVE


async def test_restoring_a_deleted_account(page: httpx.AsyncClient, session: AsyncSession) -> None:
    await signed_in_admin(page, session)
    gone = await make_account(session, username="gone", deleted_at=utcnow())
    listed = await page.get(f"{ADMIN}/user/list", params={"search": "gone"})
    assert "gone@example.com" in listed.text
    assert "deleted " in listed.text
    token = await confirmation(page, "user", "restore", gone.id)

    done = await decide(page, "user", "restore", [(gone.id, gone.version)], token)

    assert done.status_code == 303
    assert (await reload(session, gone)).deleted_at is None
    assert [entry.action for entry in await audit_of(session, gone.id)] == ["user.restore"]


async def test_creator_decisions_are_audited_with_their_reason(
    page: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await signed_in_admin(page, session)
    creator = await make_creator(session, status=CreatorStatus.PENDING)
    await session.commit()
    token = await confirmation(page, "creator", "approve", creator.id)

    done = await decide(
        page, "creator", "approve", [(creator.id, creator.version)], token, "looks genuine"
    )

    assert done.status_code == 303
    stored = await session.get(Creator, creator.id, populate_existing=True)
    assert stored is not None
    assert stored.status is CreatorStatus.APPROVED
    await session.commit()
    [entry] = await audit_of(session, creator.id)
    assert (entry.actor_id, entry.action) == (admin.id, "creator.approve")
    assert entry.details is not None
    assert entry.details["reason"] == "looks genuine"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/user/create"),
        ("POST", "/user/create"),
        ("GET", "/user/edit/{id}"),
        ("POST", "/user/edit/{id}"),
        ("DELETE", "/user/delete?pks={id}"),
        ("POST", "/user/import"),
        ("GET", "/user/export/csv"),
        ("GET", "/user/ajax/lookup?name=creator&term=a"),
    ],
)
async def test_no_route_writes_rows_around_the_services(
    page: httpx.AsyncClient, session: AsyncSession, method: str, path: str
) -> None:
    await signed_in_admin(page, session)
    user = await make_account(session, username="mallory")

    response = await page.request(
        method,
        ADMIN + path.format(id=user.id),
        data={"status": "BANNED"} if method == "POST" else None,
    )

    assert response.status_code == 404
    assert (await reload(session, user)).status is UserStatus.ACTIVE


@pytest.mark.parametrize(
    "path",
    [
        "/user/details/not-an-id",
        "/user/action/suspend?pks=not-an-id",
        "/user/action/suspend?pks=",
        "/user/list?page=first",
        "/user/list?sortBy=password_hash",
        "/user/list?search=" + "x" * 101,
        "/nothing/list",
    ],
)
async def test_bad_input_is_a_clear_4xx(
    page: httpx.AsyncClient, session: AsyncSession, path: str
) -> None:
    await signed_in_admin(page, session)

    response = await page.get(ADMIN + path)

    assert 400 <= response.status_code < 500, response.text


async def test_a_malformed_decision_form_is_a_400(
    page: httpx.AsyncClient, session: AsyncSession
) -> None:
    await signed_in_admin(page, session)
    user = await make_account(session, username="mallory")
    token = await confirmation(page, "user", "suspend", user.id)

    for targets in ([("not-an-id", 1)], [(user.id, "one")], []):
        refused = await decide(page, "user", "suspend", targets, token)  # type: ignore[arg-type]
        assert refused.status_code == 400
    unknown = await decide(page, "user", "promote", [(user.id, user.version)], token)
    assert unknown.status_code == 404
    assert (await reload(session, user)).status is UserStatus.ACTIVE


@pytest.mark.parametrize(
    "view",
    ["user", "creator", "content", "report", "moderation-case", "transaction", "audit-log-entry"],
)
async def test_every_view_lists_and_searches(
    page: httpx.AsyncClient, session: AsyncSession, view: str
) -> None:
    admin = await signed_in_admin(page, session)

    for params in ({}, {"search": "a_b%"}, {"search": str(admin.id)}):
        response = await page.get(f"{ADMIN}/{view}/list", params=params)
        assert response.status_code == 200, response.text


async def test_no_page_shows_a_password_hash(
    page: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await signed_in_admin(page, session)

    for path in ("/user/list", f"/user/details/{admin.id}"):
        response = await page.get(ADMIN + path)
        assert response.status_code == 200
        assert admin.password_hash not in response.text
        assert "argon2" not in response.text
