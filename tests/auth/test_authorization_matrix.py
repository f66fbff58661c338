"""Who may call what: every auth, account and account-administration endpoint, called by
each kind of caller, with a valid request, so that the status shows the decision on rights.

"user" is the account the requests are about (the target of the admin endpoints);
"other" is a second USER acting on it where the path names it.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.auth.repository import EmailTokenRepository, RefreshTokenRepository
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.models import User
from dreamlust.models.enums import EmailTokenPurpose, UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import STRONG_PASSWORD, headers_for, make_account
from tests.fixtures.factories import PASSWORD

CALLERS = ("anonymous", "user", "other", "moderator", "admin")


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    body: dict[str, Any] | None
    expected: dict[str, int]

    def __post_init__(self) -> None:
        assert set(self.expected) == set(CALLERS), f"{self}: one status per caller"


CASES = [
    Case(
        "POST",
        "/auth/register",
        {"email": "newcomer@example.com", "username": "newcomer", "password": STRONG_PASSWORD},
        expected={"anonymous": 201, "user": 201, "other": 201, "moderator": 201, "admin": 201},
    ),
    Case(
        "POST",
        "/auth/login",
        {"login": "{username}", "password": PASSWORD},
        expected={"anonymous": 200, "user": 200, "other": 200, "moderator": 200, "admin": 200},
    ),
    Case(
        "POST",
        "/auth/refresh",
        {"refresh_token": "{refresh_token}"},
        expected={"anonymous": 200, "user": 200, "other": 200, "moderator": 200, "admin": 200},
    ),
    Case(
        "POST",
        "/auth/logout",
        {"refresh_token": "{refresh_token}"},
        expected={"anonymous": 401, "user": 204, "other": 204, "moderator": 204, "admin": 204},
    ),
    Case(
        "POST",
        "/auth/verify-email",
        {"token": "{verification_token}"},
        expected={"anonymous": 200, "user": 200, "other": 200, "moderator": 200, "admin": 200},
    ),
    Case(
        "POST",
        "/auth/verify-email/resend",
        None,
        expected={"anonymous": 401, "user": 202, "other": 202, "moderator": 202, "admin": 202},
    ),
    Case(
        "POST",
        "/auth/password-reset",
        {"email": "{email}"},
        expected={"anonymous": 202, "user": 202, "other": 202, "moderator": 202, "admin": 202},
    ),
    Case(
        "POST",
        "/auth/password-reset/confirm",
        {"token": "{reset_token}", "new_password": "quiet-harbor-lantern-97"},
        expected={"anonymous": 204, "user": 204, "other": 204, "moderator": 204, "admin": 204},
    ),
    Case(
        "GET",
        "/users/me",
        None,
        expected={"anonymous": 401, "user": 200, "other": 200, "moderator": 200, "admin": 200},
    ),
    Case(
        "PATCH",
        "/users/me",
        {"display_name": "Renamed", "version": 1},
        expected={"anonymous": 401, "user": 200, "other": 200, "moderator": 200, "admin": 200},
    ),
    Case(
        "DELETE",
        "/users/me",
        {"password": PASSWORD},
        expected={"anonymous": 401, "user": 204, "other": 204, "moderator": 204, "admin": 204},
    ),
    Case(
        "GET",
        "/users/me/preferences",
        None,
        expected={"anonymous": 401, "user": 200, "other": 200, "moderator": 200, "admin": 200},
    ),
    Case(
        "PATCH",
        "/users/me/preferences",
        {"theme": "dark", "notifications": {"likes": "off"}},
        expected={"anonymous": 401, "user": 200, "other": 200, "moderator": 200, "admin": 200},
    ),
    Case(
        "GET",
        "/users/{username}",
        None,
        expected={"anonymous": 200, "user": 200, "other": 200, "moderator": 200, "admin": 200},
    ),
    Case(
        "GET",
        "/admin/users",
        None,
        expected={"anonymous": 401, "user": 403, "other": 403, "moderator": 403, "admin": 200},
    ),
    Case(
        "GET",
        "/admin/users/{user_id}",
        None,
        expected={"anonymous": 401, "user": 403, "other": 403, "moderator": 403, "admin": 200},
    ),
    Case(
        "PATCH",
        "/admin/users/{user_id}",
        {"status": "SUSPENDED", "version": 1},
        expected={"anonymous": 401, "user": 403, "other": 403, "moderator": 403, "admin": 200},
    ),
    Case(
        "POST",
        "/admin/users/{deleted_user_id}/restore",
        None,
        expected={"anonymous": 401, "user": 403, "other": 403, "moderator": 403, "admin": 200},
    ),
]


@dataclass(frozen=True)
class World:
    callers: dict[str, User | None]
    values: dict[str, str]

    def fill(self, template: Any) -> Any:
        """The template with `{name}` placeholders in its strings filled in."""
        if isinstance(template, str):
            return template.format(**self.values)
        if isinstance(template, dict):
            return {key: self.fill(value) for key, value in template.items()}
        return template


async def build_world(session: AsyncSession) -> World:
    user = await make_account(session)
    callers: dict[str, User | None] = {
        "anonymous": None,
        "user": user,
        "other": await make_account(session),
        "moderator": await make_account(session, role=UserRole.MODERATOR),
        "admin": await make_account(session, role=UserRole.ADMIN),
    }
    deleted = await make_account(session, deleted_at=utcnow() - timedelta(days=1))
    refresh_token = await RefreshTokenRepository(session).issue(
        user.id, family_id=new_id(), lifetime=timedelta(days=1), user_agent=None
    )
    email_tokens = EmailTokenRepository(session)
    verification_token = await email_tokens.issue(
        user.id, EmailTokenPurpose.VERIFY_EMAIL, timedelta(hours=1)
    )
    reset_token = await email_tokens.issue(
        user.id, EmailTokenPurpose.RESET_PASSWORD, timedelta(hours=1)
    )
    await session.commit()
    return World(
        callers=callers,
        values={
            "user_id": str(user.id),
            "username": user.username,
            "email": user.email,
            "deleted_user_id": str(deleted.id),
            "refresh_token": refresh_token,
            "verification_token": verification_token,
            "reset_token": reset_token,
        },
    )


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("case", CASES, ids=lambda case: f"{case.method} {case.path}")
async def test_each_caller_gets_the_documented_status(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, case: Case, caller: str
) -> None:
    world = await build_world(session)
    acting = world.callers[caller]
    headers = headers_for(runtime, acting) if acting is not None else {}

    response = await client.request(
        case.method,
        "/api/v1" + world.fill(case.path),
        json=world.fill(case.body),
        headers=headers,
    )

    assert response.status_code == case.expected[caller], response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == "Bearer"


async def test_another_user_cannot_sign_out_someone_elses_session(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    world = await build_world(session)
    other = world.callers["other"]
    assert other is not None
    refresh_token = world.values["refresh_token"]

    response = await client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": refresh_token},
        headers=headers_for(runtime, other),
    )

    assert response.status_code == 204
    refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert refreshed.status_code == 200, "the session belongs to someone else and stays valid"
