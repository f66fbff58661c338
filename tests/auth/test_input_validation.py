"""Strict input: what is not exactly right is a 422 problem naming the field, never a 500."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.models.enums import UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import STRONG_PASSWORD, headers_for, make_account, reload

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/users/me"
REGISTRATION = {"email": "mia@example.com", "username": "mia_rivers", "password": STRONG_PASSWORD}
TODAY = utcnow().date()
TWELVE_YEARS_OLD = date(TODAY.year - 12, TODAY.month, 1)
TOMORROW = TODAY + timedelta(days=1)
OVERLONG_EMAIL = "a" * 64 + "@" + ".".join(["b" * 63] * 4) + ".com"
LONGEST_PASSWORD = ("violet-anchor-tumbles-" * 6)[:124] + "Zq8!"


def assert_invalid(response: httpx.Response, loc: list[str]) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert loc in [error["loc"] for error in problem["errors"]], problem["errors"]
    assert all(error["msg"] for error in problem["errors"])


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"nickname": "mimi"}, ["body", "nickname"]),
        ({"role": "ADMIN"}, ["body", "role"]),
        ({"email_verified": True}, ["body", "email_verified"]),
        ({"email": "plainaddress"}, ["body", "email"]),
        ({"email": "@example.com"}, ["body", "email"]),
        ({"email": "mia@"}, ["body", "email"]),
        ({"email": "mia@@example.com"}, ["body", "email"]),
        ({"email": "mia rivers@example.com"}, ["body", "email"]),
        ({"email": "mia@example..com"}, ["body", "email"]),
        ({"email": "mia@example"}, ["body", "email"]),
        ({"email": "mi\x00a@example.com"}, ["body", "email"]),
        ({"email": OVERLONG_EMAIL}, ["body", "email"]),
        ({"username": "admin"}, ["body", "username"]),
        ({"username": "Admin"}, ["body", "username"]),
        ({"username": "ME"}, ["body", "username"]),
        ({"username": "root"}, ["body", "username"]),
        ({"username": "ab"}, ["body", "username"]),
        ({"username": "a" * 31}, ["body", "username"]),
        ({"username": "mia rivers"}, ["body", "username"]),
        ({"username": "mia-rivers"}, ["body", "username"]),
        ({"username": "mía"}, ["body", "username"]),
        ({"username": "mia\x00b"}, ["body", "username"]),
        ({"username": "mia\n"}, ["body", "username"]),
        ({"password": "violet\x00anchor-42"}, ["body", "password"]),
        ({"password": "violet\x07anchor-42"}, ["body", "password"]),
        ({"password": "violet\nanchor-42"}, ["body", "password"]),
        ({"birth_date": TOMORROW.isoformat()}, ["body", "birth_date"]),
        ({"birth_date": TWELVE_YEARS_OLD.isoformat()}, ["body", "birth_date"]),
        ({"birth_date": "1899-12-31"}, ["body", "birth_date"]),
        ({"birth_date": "yesterday"}, ["body", "birth_date"]),
        ({"email": None}, ["body", "email"]),
    ],
)
async def test_invalid_registrations_are_422(
    client: httpx.AsyncClient, changes: dict[str, Any], loc: list[str]
) -> None:
    response = await client.post(REGISTER, json={**REGISTRATION, **changes})
    assert_invalid(response, loc)


async def test_a_registration_missing_a_field_names_it(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, json={"email": "mia@example.com", "username": "mia"})
    assert_invalid(response, ["body", "password"])


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"login": "mia", "password": STRONG_PASSWORD, "remember": True}, ["body", "remember"]),
        ({"login": "", "password": STRONG_PASSWORD}, ["body", "login"]),
        ({"login": "m" * 321, "password": STRONG_PASSWORD}, ["body", "login"]),
        ({"login": "a\x00b", "password": STRONG_PASSWORD}, ["body", "login"]),
        ({"login": "a\x07b", "password": STRONG_PASSWORD}, ["body", "login"]),
        ({"login": "mia\nrivers", "password": STRONG_PASSWORD}, ["body", "login"]),
        ({"login": "mia", "password": "a\x00b"}, ["body", "password"]),
        ({"login": "mia", "password": ""}, ["body", "password"]),
        ({"login": "mia", "password": "p" * 1025}, ["body", "password"]),
        ({"login": "mia"}, ["body", "password"]),
    ],
)
async def test_invalid_logins_are_422(
    client: httpx.AsyncClient, body: dict[str, Any], loc: list[str]
) -> None:
    assert_invalid(await client.post(LOGIN, json=body), loc)


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"email": "new@example.com"}, ["body", "email"]),
        ({"username": "someone_else"}, ["body", "username"]),
        ({"role": "ADMIN"}, ["body", "role"]),
        ({"password_hash": "x"}, ["body", "password_hash"]),
        ({"display_name": "d" * 101}, ["body", "display_name"]),
        ({"display_name": "   "}, ["body", "display_name"]),
        ({"display_name": "a\x00b"}, ["body", "display_name"]),
        ({"display_name": "a\x07b"}, ["body", "display_name"]),
        ({"display_name": "first line\nsecond line"}, ["body", "display_name"]),
        ({"display_name": "a\x9bb"}, ["body", "display_name"]),
        ({"bio": "b" * 5001}, ["body", "bio"]),
        ({"bio": "a\x00b"}, ["body", "bio"]),
        ({"bio": "a\x1bb"}, ["body", "bio"]),
        ({"location": "l" * 101}, ["body", "location"]),
        ({"location": "Oslo\r\nNorway"}, ["body", "location"]),
        ({"website": "javascript:alert(1)"}, ["body", "website"]),
        ({"website": "https://example.com/" + "w" * 2048}, ["body", "website"]),
        ({"avatar_url": "ftp://example.com/me.png"}, ["body", "avatar_url"]),
        ({"birth_date": TOMORROW.isoformat()}, ["body", "birth_date"]),
        ({"birth_date": TWELVE_YEARS_OLD.isoformat()}, ["body", "birth_date"]),
        ({"version": 0}, ["body", "version"]),
    ],
)
async def test_invalid_profile_changes_are_422_and_change_nothing(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    changes: dict[str, Any],
    loc: list[str],
) -> None:
    user = await make_account(session)
    response = await client.patch(
        ME, json=changes, headers={**headers_for(runtime, user), "If-Match": '"1"'}
    )
    assert_invalid(response, loc)
    assert (await reload(session, user)).version == 1


async def test_the_longest_allowed_profile_values_are_accepted(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    bio = ("line\n\t" * 1000)[:5000]
    response = await client.patch(
        ME,
        json={"display_name": "d" * 100, "bio": bio, "location": "l" * 100},
        headers={**headers_for(runtime, user), "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    stored = await reload(session, user)
    assert (stored.display_name, stored.bio, stored.location) == ("d" * 100, bio, "l" * 100)


@pytest.mark.parametrize(
    ("today", "oldest_refused", "youngest_allowed"),
    [
        (date(2026, 6, 15), date(2013, 6, 16), date(2013, 6, 15)),
        (date(2028, 2, 29), date(2015, 3, 1), date(2015, 2, 28)),
    ],
    ids=["ordinary-day", "leap-day"],
)
async def test_the_minimum_age_is_thirteen_years_to_the_day(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
    today: date,
    oldest_refused: date,
    youngest_allowed: date,
) -> None:
    noon = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
    monkeypatch.setattr("dreamlust.users.schemas.utcnow", lambda: noon)
    user = await make_account(session)
    headers = {**headers_for(runtime, user), "If-Match": '"1"'}

    refused = await client.patch(
        ME, json={"birth_date": oldest_refused.isoformat()}, headers=headers
    )
    assert_invalid(refused, ["body", "birth_date"])
    allowed = await client.patch(
        ME, json={"birth_date": youngest_allowed.isoformat()}, headers=headers
    )
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["birth_date"] == youngest_allowed.isoformat()


async def test_a_public_profile_lookup_with_control_characters_is_422(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/users/mia%00rivers")
    assert_invalid(response, ["path", "username"])


@pytest.mark.parametrize("q", ["a\x00b", "a\x07b", "line\nbreak"])
async def test_an_admin_search_with_control_characters_is_422(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, q: str
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    response = await client.get(
        "/api/v1/admin/users", params={"q": q}, headers=headers_for(runtime, admin)
    )
    assert_invalid(response, ["query", "q"])


@pytest.mark.parametrize(
    ("registration", "reason"),
    [
        ({"password": "Sh0rt-x"}, "8 to 128 characters"),
        ({"password": LONGEST_PASSWORD + "x"}, "8 to 128 characters"),
        ({"password": "Quartz-mia_rivers-77"}, "username or e-mail"),
        ({"password": "Quartz-MIA_RIVERS-77"}, "username or e-mail"),
        (
            {"email": "harbor.light@example.com", "password": "harbor.light-quartz-77"},
            "username or e-mail",
        ),
        ({"password": "password1"}, "too weak"),
        ({"password": "Password123!"}, "too weak"),
        ({"password": "qwertyuiop"}, "too weak"),
    ],
    ids=[
        "short",
        "129-characters",
        "contains-username",
        "contains-username-in-capitals",
        "contains-email-local-part",
        "password1",
        "common-pattern",
        "keyboard-row",
    ],
)
async def test_weak_passwords_are_refused_with_422(
    client: httpx.AsyncClient, registration: dict[str, str], reason: str
) -> None:
    response = await client.post(REGISTER, json={**REGISTRATION, **registration})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith(":weak-password")
    assert reason in response.json()["detail"]
    assert [error["loc"] for error in response.json()["errors"]] == [["body", "password"]]


async def test_a_strong_password_of_128_characters_is_accepted(client: httpx.AsyncClient) -> None:
    assert len(LONGEST_PASSWORD) == 128
    response = await client.post(REGISTER, json={**REGISTRATION, "password": LONGEST_PASSWORD})
    assert response.status_code == 201, response.text
