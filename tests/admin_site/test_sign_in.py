"""Who may use the admin page: active administrators signed in with their own account."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.auth.sessions import revoke_all_sessions
from dreamlust.config import Environment, Settings
from dreamlust.models import RefreshToken, User
from dreamlust.models.enums import UserRole, UserStatus
from dreamlust.runtime import Runtime
from tests.admin_site.conftest import ADMIN, sign_in
from tests.fixtures.accounts import make_account, reload
from tests.fixtures.serving import served


async def sign_in_count(session: AsyncSession, user: User) -> int:
    count = await session.scalar(
        select(func.count()).select_from(RefreshToken).where(RefreshToken.user_id == user.id)
    )
    await session.commit()
    return int(count or 0)


def sends_to_login(response: httpx.Response) -> bool:
    return response.status_code == 302 and response.headers["location"].endswith(f"{ADMIN}/login")


async def test_an_anonymous_visitor_is_sent_to_the_login_page(page: httpx.AsyncClient) -> None:
    for path in (f"{ADMIN}/", f"{ADMIN}/user/list", f"{ADMIN}/audit-log-entry/list"):
        assert sends_to_login(await page.get(path)), path
    login_page = await page.get(f"{ADMIN}/login")
    assert login_page.status_code == 200
    assert "E-mail or username" in login_page.text


async def test_an_administrator_signs_in_with_username_or_email(
    page: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN, username="chief")

    signed_in = await sign_in(page, "CHIEF@example.com")
    assert signed_in.status_code == 302
    assert (await page.get(f"{ADMIN}/user/list")).status_code == 200
    assert (await reload(session, admin)).last_login_at is not None

    page.cookies.clear()
    assert (await sign_in(page, "chief")).status_code == 302
    assert (await page.get(f"{ADMIN}/user/list")).status_code == 200


async def test_the_session_cookie_is_http_only_lax_and_scoped_to_the_admin_page(
    page: httpx.AsyncClient, session: AsyncSession, settings: Settings, runtime: Runtime
) -> None:
    await make_account(session, role=UserRole.ADMIN, username="chief")
    cookie = (await sign_in(page, "chief")).headers["set-cookie"].lower()
    assert cookie.startswith("dreamlust_admin=")
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert f"path={ADMIN}" in cookie
    assert "secure" not in cookie

    production = settings.model_copy(update={"env": Environment.PRODUCTION})
    async with served(create_app(production, runtime=runtime)) as client:
        assert "secure" in (await sign_in(client, "chief")).headers["set-cookie"].lower()


@pytest.mark.parametrize(
    ("role", "status", "error"),
    [
        (UserRole.MODERATOR, UserStatus.ACTIVE, "Only active administrators"),
        (UserRole.USER, UserStatus.ACTIVE, "Only active administrators"),
        (UserRole.ADMIN, UserStatus.SUSPENDED, "This account is suspended."),
        (UserRole.ADMIN, UserStatus.BANNED, "This account is banned."),
    ],
)
async def test_other_accounts_are_refused_and_nothing_of_their_login_is_kept(
    page: httpx.AsyncClient,
    session: AsyncSession,
    role: UserRole,
    status: UserStatus,
    error: str,
) -> None:
    user = await make_account(session, role=role, status=status, username="someone")

    refused = await sign_in(page, "someone")

    assert refused.status_code == 403
    assert error in refused.text
    assert "dreamlust_admin" not in refused.headers.get("set-cookie", "")
    assert sends_to_login(await page.get(f"{ADMIN}/user/list"))
    assert await sign_in_count(session, user) == 0
    assert (await reload(session, user)).last_login_at is None


@pytest.mark.parametrize(
    ("login", "password"),
    [("chief", "not the password"), ("nobody", "correct horse battery staple"), ("", "x")],
)
async def test_wrong_credentials_are_refused_alike(
    page: httpx.AsyncClient, session: AsyncSession, login: str, password: str
) -> None:
    await make_account(session, role=UserRole.ADMIN, username="chief")

    refused = await sign_in(page, login, password)

    assert refused.status_code in (400, 401)
    assert "The login or password is incorrect." in refused.text
    assert sends_to_login(await page.get(f"{ADMIN}/user/list"))


async def test_guessing_passwords_meets_the_login_rate_limit(
    page: httpx.AsyncClient, session: AsyncSession, settings: Settings
) -> None:
    await make_account(session, role=UserRole.ADMIN, username="chief")
    allowed = int(settings.rate_limit_login_per_account.split("/")[0])

    for _ in range(allowed):
        assert (await sign_in(page, "chief", "a wrong guess")).status_code == 401
    limited = await sign_in(page, "chief")

    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert 'id="login-error"' in limited.text
    assert "try again in" in limited.text


async def signed_in_admin(page: httpx.AsyncClient, session: AsyncSession) -> User:
    admin = await make_account(session, role=UserRole.ADMIN, username="chief")
    assert (await sign_in(page, "chief")).status_code == 302
    assert (await page.get(f"{ADMIN}/user/list")).status_code == 200
    return admin


@pytest.mark.parametrize(
    "change",
    [
        {"role": UserRole.MODERATOR},
        {"status": UserStatus.SUSPENDED},
        {"status": UserStatus.BANNED},
    ],
)
async def test_a_demoted_or_blocked_administrator_is_out_at_once(
    page: httpx.AsyncClient, session: AsyncSession, change: dict[str, object]
) -> None:
    admin = await signed_in_admin(page, session)

    await session.execute(update(User).where(User.id == admin.id).values(**change))
    await session.commit()

    assert sends_to_login(await page.get(f"{ADMIN}/user/list"))


async def test_signing_out_everywhere_ends_the_admin_session(
    page: httpx.AsyncClient, session: AsyncSession
) -> None:
    admin = await signed_in_admin(page, session)

    await revoke_all_sessions(session, admin.id)
    await session.commit()

    assert sends_to_login(await page.get(f"{ADMIN}/user/list"))


async def test_signing_out_revokes_the_session_even_for_a_kept_cookie(
    page: httpx.AsyncClient, session: AsyncSession
) -> None:
    await signed_in_admin(page, session)
    kept = dict(page.cookies)

    assert sends_to_login(await page.get(f"{ADMIN}/logout"))
    page.cookies.update(kept)

    assert sends_to_login(await page.get(f"{ADMIN}/user/list"))


async def test_a_forged_cookie_is_refused(page: httpx.AsyncClient, session: AsyncSession) -> None:
    await signed_in_admin(page, session)
    cookie = page.cookies["dreamlust_admin"]
    page.cookies.clear()
    page.cookies.set("dreamlust_admin", cookie[:-4] + "AAAA", path=ADMIN)

    assert sends_to_login(await page.get(f"{ADMIN}/user/list"))
