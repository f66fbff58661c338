"""The account holder's own profile: optimistic locking, preferences, deletion, restore;
and what anyone sees of a profile."""

from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.kit.clock import utcnow
from dreamlust.models import AuditLogEntry, User
from dreamlust.models.enums import UserRole, UserStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import bearer, headers_for, login, make_account, reload
from tests.fixtures.factories import PASSWORD

ME = "/api/v1/users/me"
PREFERENCES = "/api/v1/users/me/preferences"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


def profile_of(username: str) -> str:
    return f"/api/v1/users/{username}"


def restore_path(user: User) -> str:
    return f"/api/v1/admin/users/{user.id}/restore"


async def test_reading_me_gives_a_strong_etag_of_the_version(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    response = await client.get(ME, headers=headers_for(runtime, user))
    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert response.headers["etag"] == '"1"'


async def test_a_matching_if_match_updates_and_bumps_the_version(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    headers = headers_for(runtime, user)

    response = await client.patch(
        ME, json={"display_name": "Night Owl"}, headers={**headers, "If-Match": '"1"'}
    )

    assert response.status_code == 200, response.text
    assert response.json()["display_name"] == "Night Owl"
    assert response.json()["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert (await client.get(ME, headers=headers)).headers["etag"] == '"2"'


async def test_a_matching_body_version_updates_too(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    response = await client.patch(
        ME, json={"location": "Lisbon", "version": 1}, headers=headers_for(runtime, user)
    )
    assert response.status_code == 200, response.text
    assert response.json()["location"] == "Lisbon"
    assert response.headers["etag"] == '"2"'


async def test_a_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    headers = headers_for(runtime, user)
    first = await client.patch(ME, json={"bio": "first"}, headers={**headers, "If-Match": '"1"'})
    assert first.status_code == 200

    stale = await client.patch(ME, json={"bio": "stale"}, headers={**headers, "If-Match": '"1"'})

    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    stored = await reload(session, user)
    assert (stored.bio, stored.version) == ("first", 2)


async def test_a_stale_body_version_is_409_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    headers = headers_for(runtime, user)
    first = await client.patch(ME, json={"bio": "first", "version": 1}, headers=headers)
    assert first.status_code == 200

    stale = await client.patch(ME, json={"bio": "stale", "version": 1}, headers=headers)

    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"
    stored = await reload(session, user)
    assert (stored.bio, stored.version) == ("first", 2)


async def test_an_update_without_a_version_is_428(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    response = await client.patch(ME, json={"bio": "hello"}, headers=headers_for(runtime, user))
    assert response.status_code == 428
    assert response.headers["content-type"] == "application/problem+json"
    assert (await reload(session, user)).bio is None


@pytest.mark.parametrize("if_match", ['W/"1"', "1", '"one"', '"1", "2"', "*", '"-1"'])
async def test_a_weak_or_malformed_if_match_is_400(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, if_match: str
) -> None:
    user = await make_account(session)
    response = await client.patch(
        ME, json={"bio": "hello"}, headers={**headers_for(runtime, user), "If-Match": if_match}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert (await reload(session, user)).version == 1


async def test_only_the_fields_sent_change(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(
        session, display_name="Before", bio="Line one\nLine two", location="Oslo"
    )
    headers = headers_for(runtime, user)

    response = await client.patch(ME, json={"display_name": "After", "version": 1}, headers=headers)
    assert response.status_code == 200
    assert response.json()["display_name"] == "After"
    assert response.json()["bio"] == "Line one\nLine two"
    assert response.json()["location"] == "Oslo"

    cleared = await client.patch(ME, json={"location": None, "version": 2}, headers=headers)
    assert cleared.status_code == 200
    stored = await reload(session, user)
    assert (stored.display_name, stored.bio, stored.location) == (
        "After",
        "Line one\nLine two",
        None,
    )


async def test_preferences_start_from_safe_defaults(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    response = await client.get(PREFERENCES, headers=headers_for(runtime, user))
    assert response.status_code == 200
    preferences = response.json()
    assert preferences["nsfw_policy"] == "hide"
    assert preferences["theme"] == "system"
    assert preferences["language"] == "en"
    assert preferences["notifications"] == {
        "email": True,
        "new_follower": "in_app",
        "new_subscriber": "both",
        "comments": "in_app",
        "likes": "in_app",
        "new_uploads": "in_app",
        "payments": "both",
        "reviews": "both",
        "reports": "in_app",
        "announcements": "in_app",
    }


async def test_a_preferences_patch_changes_only_what_is_sent_and_merges_notifications(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    headers = headers_for(runtime, user)

    first = await client.patch(
        PREFERENCES,
        json={"theme": "dark", "notifications": {"email": False}},
        headers=headers,
    )
    assert first.status_code == 200, first.text
    second = await client.patch(
        PREFERENCES,
        json={"nsfw_policy": "blur", "notifications": {"likes": "off", "payments": "email"}},
        headers=headers,
    )
    assert second.status_code == 200, second.text

    preferences = (await client.get(PREFERENCES, headers=headers)).json()
    assert preferences["theme"] == "dark"
    assert preferences["nsfw_policy"] == "blur"
    assert preferences["language"] == "en"
    notifications = preferences["notifications"]
    assert notifications["email"] is False
    assert notifications["likes"] == "off"
    assert notifications["payments"] == "email"
    assert notifications["comments"] == "in_app"
    assert second.json() == preferences


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"colour": "red"}, ["body", "colour"]),
        ({"notifications": {"carrier_pigeon": True}}, ["body", "notifications", "carrier_pigeon"]),
        ({"nsfw_policy": "sometimes"}, ["body", "nsfw_policy"]),
        ({"notifications": {"likes": "email"}}, ["body", "notifications", "likes"]),
        ({"notifications": {"payments": True}}, ["body", "notifications", "payments"]),
        ({"theme": "neon"}, ["body", "theme"]),
        ({"language": "English please"}, ["body", "language"]),
    ],
)
async def test_unknown_or_invalid_preferences_are_422(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    body: dict[str, object],
    loc: list[str],
) -> None:
    user = await make_account(session)
    headers = headers_for(runtime, user)
    response = await client.patch(PREFERENCES, json=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert loc in [error["loc"] for error in response.json()["errors"]]
    assert (await client.get(PREFERENCES, headers=headers)).json()["nsfw_policy"] == "hide"


async def test_deleting_with_a_wrong_password_is_403_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    pair = await login(client, user.username)
    headers = headers_for(runtime, user)

    response = await client.request(
        "DELETE", ME, json={"password": "not the password"}, headers=headers
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    stored = await reload(session, user)
    assert stored.deleted_at is None
    assert stored.version == 1
    assert (await client.get(ME, headers=headers)).status_code == 200
    refreshed = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200


async def test_deleting_with_the_password_signs_out_everywhere_and_hides_the_account(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(session)
    pairs = [await login(client, user.username) for _ in range(2)]
    headers = bearer(pairs[0]["access_token"])

    response = await client.request("DELETE", ME, json={"password": PASSWORD}, headers=headers)

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(ME, headers=headers)).status_code == 401
    for pair in pairs:
        refreshed = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
        assert refreshed.status_code == 401
    signed_in = await client.post(LOGIN, json={"login": user.username, "password": PASSWORD})
    assert signed_in.status_code == 401
    assert (await client.get(profile_of(user.username))).status_code == 404
    assert (await reload(session, user)).deleted_at is not None


async def test_an_admin_restores_a_deleted_account_within_the_retention(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    user = await make_account(session)
    deleted = await client.request(
        "DELETE", ME, json={"password": PASSWORD}, headers=headers_for(runtime, user)
    )
    assert deleted.status_code == 204

    restored = await client.post(restore_path(user), headers=headers_for(runtime, admin))

    assert restored.status_code == 200, restored.text
    assert restored.json()["deleted_at"] is None
    assert (await client.get(profile_of(user.username))).status_code == 200
    pair = await login(client, user.username)
    me = await client.get(ME, headers=bearer(pair["access_token"]))
    assert me.status_code == 200
    entries = list(
        await session.scalars(select(AuditLogEntry).where(AuditLogEntry.target_id == user.id))
    )
    await session.commit()
    assert [(entry.action, entry.actor_id) for entry in entries] == [("user.restore", admin.id)]


async def test_restoring_after_the_retention_is_409(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    long_ago = utcnow() - settings.soft_delete_retention - timedelta(days=1)
    user = await make_account(session, deleted_at=long_ago)

    response = await client.post(restore_path(user), headers=headers_for(runtime, admin))

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert (await reload(session, user)).deleted_at == long_ago


async def test_restoring_an_account_that_is_not_deleted_is_409(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    user = await make_account(session)
    response = await client.post(restore_path(user), headers=headers_for(runtime, admin))
    assert response.status_code == 409


async def test_a_public_profile_hides_private_fields(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(
        session,
        display_name="Quiet Fox",
        bio="Hello",
        birth_date=date(1990, 5, 17),
    )
    response = await client.get(profile_of(user.username))
    assert response.status_code == 200
    profile = response.json()
    assert profile["username"] == user.username
    assert profile["display_name"] == "Quiet Fox"
    assert profile["bio"] == "Hello"
    for private in ("email", "birth_date", "role", "status", "version", "preferences"):
        assert private not in profile
    assert user.email not in response.text


async def test_a_public_profile_is_found_whatever_the_case(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(session, username="Quiet_Fox")
    for spelling in ("quiet_fox", "QUIET_FOX", "Quiet_Fox"):
        response = await client.get(profile_of(spelling))
        assert response.status_code == 200
        assert response.json()["id"] == str(user.id)


async def test_a_banned_or_unknown_users_public_profile_is_404(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(session)
    assert (await client.get(profile_of(user.username))).status_code == 200
    await session.execute(update(User).where(User.id == user.id).values(status=UserStatus.BANNED))
    await session.commit()

    banned = await client.get(profile_of(user.username))
    assert banned.status_code == 404
    assert banned.headers["content-type"] == "application/problem+json"
    assert (await client.get(profile_of("nobody_here"))).status_code == 404
