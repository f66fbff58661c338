"""Creator profiles over HTTP: becoming a creator, the public list and profile, editing,
and the staff workflow that approves, rejects, verifies and suspends."""

import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.kit.clock import utcnow
from dreamlust.models import AuditLogEntry, Creator
from dreamlust.models.enums import CreatorStatus, UserRole
from dreamlust.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.accounts import headers_for, make_account, reload
from tests.fixtures.factories import make_category, make_content, make_creator, make_user
from tests.fixtures.serving import served

CREATORS = "/api/v1/creators"
PROBLEM = "application/problem+json"


async def creator_account(
    session: AsyncSession, runtime: Runtime, **fields: Any
) -> tuple[Creator, dict[str, str]]:
    """A creator profile (approved unless told otherwise) and its owner's headers."""
    user = await make_user(session, role=UserRole.CREATOR, is_creator=True)
    creator = await make_creator(session, user=user, **fields)
    await session.commit()
    return creator, headers_for(runtime, user)


async def stored(session: AsyncSession, creator_id: uuid.UUID | str) -> Creator:
    """The creator as stored now; the read's transaction ends at once."""
    creator = await session.get(Creator, uuid.UUID(str(creator_id)), populate_existing=True)
    await session.commit()
    assert creator is not None
    return creator


async def walk(client: httpx.AsyncClient, path: str, **params: Any) -> list[str]:
    """Follow the list's cursors to the end: the handles in order."""
    seen: list[str] = []
    cursor: str | None = None
    while True:
        response = await client.get(path, params=params | ({"cursor": cursor} if cursor else {}))
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(item["handle"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


# Becoming a creator


async def test_a_user_becomes_an_approved_creator_with_a_canonical_handle(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    await make_category(session, slug="music", name="Music")
    await make_category(session, slug="travel", name="Travel")
    user = await make_account(session)

    response = await client.post(
        CREATORS,
        json={
            "display_name": "Night Owl",
            "handle": "Night_Owl_42",
            "bio": "Late shows.",
            "categories": ["music", "travel"],
        },
        headers=headers_for(runtime, user),
    )

    assert response.status_code == 201, response.text
    creator = response.json()
    assert creator["handle"] == "night_owl_42"
    assert creator["display_name"] == "Night Owl"
    assert creator["status"] == "APPROVED"
    assert creator["is_verified"] is False
    assert creator["version"] == 1
    assert sorted(category["slug"] for category in creator["categories"]) == ["music", "travel"]
    account = await reload(session, user)
    assert account.role is UserRole.CREATOR
    assert account.is_creator is True


async def test_staff_keep_their_role_when_they_become_creators(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    moderator = await make_account(session, role=UserRole.MODERATOR)
    response = await client.post(
        CREATORS,
        json={"display_name": "Mod", "handle": "the_mod"},
        headers=headers_for(runtime, moderator),
    )
    assert response.status_code == 201, response.text
    assert (await reload(session, moderator)).role is UserRole.MODERATOR


async def test_new_creators_wait_for_approval_when_auto_approval_is_off(
    session: AsyncSession, runtime: Runtime, database_url: str
) -> None:
    settings = make_settings(
        database_url, mail_dir=runtime.settings.mail_dir, auto_approve_creators=False
    )
    user = await make_account(session)
    app = create_app(settings, runtime=replace(runtime, settings=settings))
    async with served(app) as client:
        response = await client.post(
            CREATORS,
            json={"display_name": "Slow Lane", "handle": "slow_lane"},
            headers=headers_for(runtime, user),
        )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "PENDING"


@pytest.mark.parametrize(
    "handle",
    [
        "ab",
        "x" * 31,
        "night-owl",
        "night owl",
        "night.owl",
        "nïght",
        "",
        " night",
    ],
)
async def test_handles_are_3_to_30_letters_digits_or_underscores(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, handle: str
) -> None:
    user = await make_account(session)
    response = await client.post(
        CREATORS,
        json={"display_name": "Someone", "handle": handle},
        headers=headers_for(runtime, user),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert ["body", "handle"] in [error["loc"] for error in response.json()["errors"]]


@pytest.mark.parametrize("handle", ["abc", "x" * 30, "a_1", "___", "007"])
async def test_handles_at_the_limits_are_accepted(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, handle: str
) -> None:
    user = await make_account(session)
    response = await client.post(
        CREATORS,
        json={"display_name": "Someone", "handle": handle},
        headers=headers_for(runtime, user),
    )
    assert response.status_code == 201, response.text
    assert response.json()["handle"] == handle


@pytest.mark.parametrize("handle", ["admin", "Admin", "API", "support", "Trending", "null"])
async def test_reserved_words_are_not_handles(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, handle: str
) -> None:
    user = await make_account(session)
    response = await client.post(
        CREATORS,
        json={"display_name": "Someone", "handle": handle},
        headers=headers_for(runtime, user),
    )
    assert response.status_code == 422, response.text
    assert "reserved" in response.text


async def test_a_handle_is_taken_whatever_its_case(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    first, second = await make_account(session), await make_account(session)
    created = await client.post(
        CREATORS,
        json={"display_name": "Owl", "handle": "night_owl"},
        headers=headers_for(runtime, first),
    )
    assert created.status_code == 201, created.text

    taken = await client.post(
        CREATORS,
        json={"display_name": "Other Owl", "handle": "NIGHT_Owl"},
        headers=headers_for(runtime, second),
    )

    assert taken.status_code == 409
    assert taken.headers["content-type"] == PROBLEM
    assert "unavailable" in taken.json()["detail"]
    assert (await reload(session, second)).role is UserRole.USER


async def test_the_handle_of_a_deleted_creator_stays_taken(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    await make_creator(session, handle="gone_owl", deleted_at=utcnow())
    user = await make_account(session)
    response = await client.post(
        CREATORS,
        json={"display_name": "Owl", "handle": "Gone_Owl"},
        headers=headers_for(runtime, user),
    )
    assert response.status_code == 409
    assert "unavailable" in response.json()["detail"]


async def test_an_account_has_at_most_one_creator_profile(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    headers = headers_for(runtime, user)
    first = await client.post(
        CREATORS, json={"display_name": "One", "handle": "first_one"}, headers=headers
    )
    assert first.status_code == 201, first.text

    second = await client.post(
        CREATORS, json={"display_name": "Two", "handle": "second_one"}, headers=headers
    )

    assert second.status_code == 409
    assert "already" in second.json()["detail"]
    assert (await client.get(f"{CREATORS}/second_one")).status_code == 404


async def test_categories_are_named_by_slug_and_unknown_ones_are_refused(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    await make_category(session, slug="music")
    await make_category(session, slug="retired", is_active=False)
    user = await make_account(session)
    headers = headers_for(runtime, user)

    for unknown in (["music", "nope"], ["retired"], ["Music"]):
        response = await client.post(
            CREATORS,
            json={"display_name": "Owl", "handle": "night_owl", "categories": unknown},
            headers=headers,
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "categories"]

    assert (await reload(session, user)).role is UserRole.USER
    assert (await client.get(f"{CREATORS}/night_owl")).status_code == 404


async def test_becoming_a_creator_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.post(CREATORS, json={"display_name": "Owl", "handle": "night_owl"})
    assert response.status_code == 401


# The public list


async def test_only_approved_creators_are_listed(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    await make_creator(session, handle="approved_one")
    for status in (CreatorStatus.PENDING, CreatorStatus.REJECTED, CreatorStatus.SUSPENDED):
        await make_creator(session, handle=f"{status.value.lower()}_one", status=status)
    await make_creator(session, handle="deleted_one", deleted_at=utcnow())
    await session.commit()

    for sort in ("popular", "new"):
        assert await walk(client, CREATORS, sort=sort) == ["approved_one"]


async def test_popular_creators_come_by_follower_count_and_new_ones_by_age(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for handle, followers in (("quiet", 3), ("loud", 500), ("middle", 40)):
        await make_creator(session, handle=handle, follower_count=followers)
        await session.commit()

    assert await walk(client, CREATORS) == ["loud", "middle", "quiet"]
    assert await walk(client, CREATORS, sort="popular") == ["loud", "middle", "quiet"]
    assert await walk(client, CREATORS, sort="new") == ["middle", "loud", "quiet"]
    assert (await client.get(CREATORS, params={"sort": "random"})).status_code == 422


async def test_the_list_filters_by_category_and_verification(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    music = await make_category(session, slug="music")
    travel = await make_category(session, slug="travel")
    await make_creator(session, handle="singer", categories=[music], is_verified=True)
    await make_creator(session, handle="drummer", categories=[music])
    await make_creator(session, handle="hiker", categories=[travel], is_verified=True)
    await make_creator(session, handle="roamer", categories=[music, travel])
    await make_creator(
        session, handle="hidden_singer", categories=[music], status=CreatorStatus.PENDING
    )
    await session.commit()

    assert set(await walk(client, CREATORS, category="music")) == {"singer", "drummer", "roamer"}
    assert set(await walk(client, CREATORS, category="travel")) == {"hiker", "roamer"}
    assert await walk(client, CREATORS, category="cooking") == []
    assert set(await walk(client, CREATORS, verified="true")) == {"singer", "hiker"}
    assert set(await walk(client, CREATORS, verified="false")) == {"drummer", "roamer"}
    assert await walk(client, CREATORS, category="music", verified="true") == ["singer"]


async def test_a_walk_over_equal_follower_counts_sees_every_creator_once_in_order(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    creators = [
        await make_creator(session, handle=f"creator_{index:02d}", follower_count=index % 3)
        for index in range(23)
    ]
    await session.commit()
    by_popularity = sorted(creators, key=lambda c: (c.follower_count, c.id), reverse=True)
    newest_first = sorted(creators, key=lambda c: (c.created_at, c.id), reverse=True)

    assert await walk(client, CREATORS, limit=4) == [c.handle for c in by_popularity]
    assert await walk(client, CREATORS, sort="new", limit=5) == [c.handle for c in newest_first]


async def test_a_cursor_only_works_for_its_own_list(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for index in range(3):
        await make_creator(session, handle=f"creator_{index}")
    await session.commit()
    cursor = (await client.get(CREATORS, params={"limit": 1})).json()["next_cursor"]

    assert (await client.get(CREATORS, params={"cursor": cursor})).status_code == 200
    other_sort = await client.get(CREATORS, params={"cursor": cursor, "sort": "new"})
    assert other_sort.status_code == 400
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    assert (await client.get(CREATORS, params={"cursor": tampered})).status_code == 400


# One profile


async def test_a_profile_is_found_by_its_handle_in_any_case(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    creator = await make_creator(session, handle="night_owl")
    await session.commit()

    for spelling in ("night_owl", "NIGHT_OWL", "Night_Owl"):
        response = await client.get(f"{CREATORS}/{spelling}")
        assert response.status_code == 200, response.text
        assert response.json()["id"] == str(creator.id)
        assert response.headers["etag"] == '"1"'
    assert (await client.get(f"{CREATORS}/nobody_here")).status_code == 404


@pytest.mark.parametrize(
    "status", [CreatorStatus.PENDING, CreatorStatus.SUSPENDED, CreatorStatus.REJECTED]
)
async def test_unapproved_profiles_are_hidden_from_all_but_their_owner_and_staff(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, status: CreatorStatus
) -> None:
    creator, owner_headers = await creator_account(session, runtime, status=status)
    path = f"{CREATORS}/{creator.handle}"
    stranger = headers_for(runtime, await make_account(session))
    other_creator = (await creator_account(session, runtime))[1]
    moderator = headers_for(runtime, await make_account(session, role=UserRole.MODERATOR))
    admin = headers_for(runtime, await make_account(session, role=UserRole.ADMIN))

    for headers in (None, stranger, other_creator):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, response.text
    for headers in (owner_headers, moderator, admin):
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == status.value


# Editing one's own profile


async def test_editing_a_profile_needs_its_current_version(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    await make_category(session, slug="music")
    creator, headers = await creator_account(session, runtime, display_name="Old Name")
    path = f"{CREATORS}/me"

    missing = await client.patch(path, json={"display_name": "New"}, headers=headers)
    assert missing.status_code == 428
    stale_header = await client.patch(
        path, json={"display_name": "New"}, headers={**headers, "If-Match": '"7"'}
    )
    assert stale_header.status_code == 412
    stale_body = await client.patch(
        path, json={"display_name": "New", "version": 7}, headers=headers
    )
    assert stale_body.status_code == 409
    assert (await stored(session, creator.id)).display_name == "Old Name"

    by_header = await client.patch(
        path,
        json={"display_name": "New Name", "categories": ["music"]},
        headers={**headers, "If-Match": '"1"'},
    )
    assert by_header.status_code == 200, by_header.text
    assert by_header.headers["etag"] == '"2"'
    assert by_header.json()["version"] == 2
    assert by_header.json()["categories"] == [{"slug": "music", "name": "Music"}]

    by_body = await client.patch(
        path, json={"bio": "Now with a bio.", "version": 2}, headers=headers
    )
    assert by_body.status_code == 200, by_body.text
    assert by_body.headers["etag"] == '"3"'
    assert by_body.json()["display_name"] == "New Name"
    assert by_body.json()["bio"] == "Now with a bio."

    replayed = await client.patch(
        path, json={"display_name": "Lost"}, headers={**headers, "If-Match": '"1"'}
    )
    assert replayed.status_code == 412
    me = await client.get(path, headers=headers)
    assert me.headers["etag"] == '"3"'
    assert me.json()["display_name"] == "New Name"


async def test_only_creators_edit_a_profile_and_only_their_own(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _headers = await creator_account(session, runtime, display_name="Mine")
    user = headers_for(runtime, await make_account(session))
    no_profile = headers_for(runtime, await make_account(session, role=UserRole.CREATOR))
    body = {"display_name": "Hijacked", "version": 1}

    assert (await client.patch(f"{CREATORS}/me", json=body)).status_code == 401
    assert (await client.patch(f"{CREATORS}/me", json=body, headers=user)).status_code == 403
    assert (await client.patch(f"{CREATORS}/me", json=body, headers=no_profile)).status_code == 404
    assert (await stored(session, creator.id)).display_name == "Mine"


# The staff workflow

_EVERY_STATUS = list(CreatorStatus)
# (status before, decision) → status after; any pair not listed is refused with 409.
_TRANSITIONS = {
    (CreatorStatus.PENDING, "approve"): CreatorStatus.APPROVED,
    (CreatorStatus.REJECTED, "approve"): CreatorStatus.APPROVED,
    (CreatorStatus.SUSPENDED, "approve"): CreatorStatus.APPROVED,
    (CreatorStatus.PENDING, "reject"): CreatorStatus.REJECTED,
    (CreatorStatus.APPROVED, "suspend"): CreatorStatus.SUSPENDED,
    (CreatorStatus.APPROVED, "verify"): CreatorStatus.APPROVED,
}


def decision_path(creator_id: uuid.UUID | str, decision: str) -> str:
    return f"/api/v1/admin/creators/{creator_id}/{decision}"


async def audit_entries(session: AsyncSession, creator_id: uuid.UUID) -> list[AuditLogEntry]:
    entries = list(
        await session.scalars(
            select(AuditLogEntry)
            .where(AuditLogEntry.target_id == creator_id)
            .order_by(AuditLogEntry.created_at, AuditLogEntry.id)
        )
    )
    await session.commit()
    return entries


@pytest.mark.parametrize("staff_role", [UserRole.MODERATOR, UserRole.ADMIN])
@pytest.mark.parametrize("decision", ["approve", "reject", "verify", "suspend"])
@pytest.mark.parametrize("before", _EVERY_STATUS, ids=[status.value for status in _EVERY_STATUS])
async def test_each_staff_decision_moves_only_from_the_statuses_it_may(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    before: CreatorStatus,
    decision: str,
    staff_role: UserRole,
) -> None:
    creator = await make_creator(session, status=before)
    staff = await make_account(session, role=staff_role)

    response = await client.post(
        decision_path(creator.id, decision),
        json={"reason": "Checked the documents."},
        headers=headers_for(runtime, staff),
    )

    after = _TRANSITIONS.get((before, decision))
    entries = await audit_entries(session, creator.id)
    if after is None:
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == PROBLEM
        assert (await stored(session, creator.id)).status is before
        assert entries == []
        return
    assert response.status_code == 200, response.text
    assert response.json()["status"] == after.value
    assert response.json()["is_verified"] is (decision == "verify")
    now_stored = await stored(session, creator.id)
    assert now_stored.status is after
    assert (now_stored.verified_at is not None) is (decision == "verify")
    [entry] = entries
    assert entry.action == f"creator.{decision}"
    assert entry.actor_id == staff.id
    assert entry.target_type == "creator"
    assert entry.details == {
        "before": before.value,
        "after": after.value,
        "reason": "Checked the documents.",
    }


async def test_a_decision_needs_no_reason(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator = await make_creator(session, status=CreatorStatus.PENDING)
    moderator = await make_account(session, role=UserRole.MODERATOR)

    response = await client.post(
        decision_path(creator.id, "approve"), headers=headers_for(runtime, moderator)
    )

    assert response.status_code == 200, response.text
    [entry] = await audit_entries(session, creator.id)
    assert entry.details == {"before": "PENDING", "after": "APPROVED", "reason": None}


@pytest.mark.parametrize("decision", ["approve", "reject", "verify", "suspend"])
async def test_only_staff_decide(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, decision: str
) -> None:
    creator, own_headers = await creator_account(session, runtime, status=CreatorStatus.PENDING)
    path = decision_path(creator.id, decision)

    assert (await client.post(path)).status_code == 401
    for role in (UserRole.USER, UserRole.CREATOR):
        headers = headers_for(runtime, await make_account(session, role=role))
        assert (await client.post(path, headers=headers)).status_code == 403
    assert (await client.post(path, headers=own_headers)).status_code == 403
    assert (await stored(session, creator.id)).status is CreatorStatus.PENDING
    assert await audit_entries(session, creator.id) == []


async def test_unknown_creators_and_decisions(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator = await make_creator(session, status=CreatorStatus.PENDING)
    gone = await make_creator(session, status=CreatorStatus.PENDING, deleted_at=utcnow())
    headers = headers_for(runtime, await make_account(session, role=UserRole.MODERATOR))

    assert (
        await client.post(decision_path(uuid.uuid4(), "approve"), headers=headers)
    ).status_code == 404
    assert (
        await client.post(decision_path(gone.id, "approve"), headers=headers)
    ).status_code == 404
    assert (await client.post(decision_path(creator.id, "ban"), headers=headers)).status_code == 422
    assert (
        await client.post(decision_path("not-an-id", "approve"), headers=headers)
    ).status_code == 422


async def test_suspending_a_creator_hides_their_content_until_they_are_approved_again(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner_headers = await creator_account(session, runtime)
    items = [await make_content(session, creator) for _ in range(2)]
    other = await make_content(session, await make_creator(session))
    await session.commit()
    ids = {str(item.id) for item in items}
    moderator = headers_for(runtime, await make_account(session, role=UserRole.MODERATOR))
    stranger = headers_for(runtime, await make_account(session))

    async def public_view() -> tuple[set[str], list[int], int]:
        listed = {item["id"] for item in (await client.get("/api/v1/content")).json()["items"]}
        details = [(await client.get(f"/api/v1/content/{id_}")).status_code for id_ in ids]
        own_list = await client.get(f"{CREATORS}/{creator.handle}/content", headers=stranger)
        return listed, details, own_list.status_code

    assert await public_view() == (ids | {str(other.id)}, [200, 200], 200)

    suspended = await client.post(decision_path(creator.id, "suspend"), headers=moderator)
    assert suspended.status_code == 200, suspended.text

    assert await public_view() == ({str(other.id)}, [404, 404], 404)
    for headers in (owner_headers, moderator):
        for id_ in ids:
            response = await client.get(f"/api/v1/content/{id_}", headers=headers)
            assert response.status_code == 200, response.text
        listed = await client.get(f"{CREATORS}/{creator.handle}/content", headers=headers)
        assert {item["id"] for item in listed.json()["items"]} == ids

    approved = await client.post(decision_path(creator.id, "approve"), headers=moderator)
    assert approved.status_code == 200, approved.text
    assert await public_view() == (ids | {str(other.id)}, [200, 200], 200)


async def test_a_suspended_creator_still_reads_their_own_profile(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, headers = await creator_account(session, runtime, status=CreatorStatus.SUSPENDED)
    me = await client.get(f"{CREATORS}/me", headers=headers)
    assert me.status_code == 200, me.text
    assert me.json()["status"] == "SUSPENDED"
    assert me.json()["id"] == str(creator.id)
