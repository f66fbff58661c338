"""Playlists themselves: create, read, list, edit, delete, and who may do which."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import User
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_playlist
from tests.playlists.helpers import PLAYLISTS, path

PROBLEM = "application/problem+json"


async def _create(client: httpx.AsyncClient, headers: dict[str, str], **body: object) -> dict:
    response = await client.post(PLAYLISTS, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict = response.json()
    return created


async def test_a_user_creates_reads_edits_and_deletes_a_playlist(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_account(session)
    headers = headers_for(runtime, owner)

    response = await client.post(
        PLAYLISTS, json={"name": "  Evening  ", "description": "calm things"}, headers=headers
    )
    assert response.status_code == 201
    assert response.headers["ETag"] == '"1"'
    created = response.json()
    assert created["name"] == "Evening"
    assert created["owner"] == {"id": str(owner.id), "username": owner.username}
    assert (created["description"], created["is_public"]) == ("calm things", False)
    assert (created["item_count"], created["version"]) == (0, 1)

    read = await client.get(path(created["id"]), headers=headers)
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    assert read.json() == created

    edited = await client.patch(
        path(created["id"]),
        json={"name": "Night", "description": None, "is_public": True},
        headers={**headers, "If-Match": '"1"'},
    )
    assert edited.status_code == 200, edited.text
    assert edited.headers["ETag"] == '"2"'
    body = edited.json()
    assert (body["name"], body["description"], body["is_public"]) == ("Night", None, True)
    assert body["version"] == 2

    assert (await client.delete(path(created["id"]), headers=headers)).status_code == 204
    assert (await client.get(path(created["id"]), headers=headers)).status_code == 404
    assert (await client.delete(path(created["id"]), headers=headers)).status_code == 404
    mine = await client.get(PLAYLISTS, headers=headers)
    assert mine.json()["items"] == []


async def test_private_playlists_are_the_owners_alone(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner, other = await make_account(session), await make_account(session)
    playlist = await make_playlist(session, owner)
    await session.commit()
    mine, theirs = headers_for(runtime, owner), headers_for(runtime, other)

    assert (await client.get(path(playlist.id), headers=mine)).status_code == 200
    assert (await client.get(path(playlist.id, "items"), headers=mine)).status_code == 200
    for headers in (theirs, None):
        assert (await client.get(path(playlist.id), headers=headers)).status_code == 404
        assert (await client.get(path(playlist.id, "items"), headers=headers)).status_code == 404


async def test_public_playlists_are_readable_by_anyone_but_changed_only_by_the_owner(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner, other = await make_account(session), await make_account(session)
    playlist = await make_playlist(session, owner, name="Shared", is_public=True)
    await session.commit()
    theirs = headers_for(runtime, other)
    content_id = str(uuid.uuid4())

    for headers in (theirs, None):
        read = await client.get(path(playlist.id), headers=headers)
        assert read.status_code == 200
        assert read.json()["owner"]["username"] == owner.username
        assert (await client.get(path(playlist.id, "items"), headers=headers)).status_code == 200

    writes = [
        ("PATCH", path(playlist.id), {"name": "Mine now"}),
        ("DELETE", path(playlist.id), None),
        ("POST", path(playlist.id, "items"), {"content_id": content_id}),
        ("DELETE", path(playlist.id, "items", content_id), None),
        ("PUT", path(playlist.id, "items", "order"), {"content_ids": []}),
    ]
    for method, url, body in writes:
        as_other = await client.request(
            method, url, json=body, headers={**theirs, "If-Match": '"1"'}
        )
        assert as_other.status_code == 404, (method, url)
        anonymous = await client.request(method, url, json=body, headers={"If-Match": '"1"'})
        assert anonymous.status_code == 401, (method, url)
    read = await client.get(path(playlist.id))
    assert (read.json()["name"], read.json()["version"]) == ("Shared", 1)


async def test_my_playlists_need_sign_in_and_come_newest_first_page_by_page(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner, other = await make_account(session), await make_account(session)
    headers = headers_for(runtime, owner)
    names = [f"List {number}" for number in range(5)]
    for name in names:
        await _create(client, headers, name=name)
    await _create(client, headers_for(runtime, other), name="Not mine")

    assert (await client.get(PLAYLISTS)).status_code == 401
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(PLAYLISTS, params=params, headers=headers)).json()
        assert len(page["items"]) <= 2
        seen.extend(item["name"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == names[::-1]


async def test_a_users_page_lists_only_their_public_playlists(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_account(session)
    headers = headers_for(runtime, owner)
    await _create(client, headers, name="Public one", is_public=True)
    await _create(client, headers, name="Private one")
    await _create(client, headers, name="Public two", is_public=True)

    for reader in (None, headers):
        listed = await client.get(
            f"/api/v1/users/{owner.username.upper()}/playlists", headers=reader
        )
        assert listed.status_code == 200
        assert [item["name"] for item in listed.json()["items"]] == ["Public two", "Public one"]
    assert (await client.get("/api/v1/users/nobody_here/playlists")).status_code == 404


async def test_a_deleted_owners_playlists_are_gone(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_account(session)
    playlist = await make_playlist(session, owner, is_public=True)
    await session.commit()
    assert (await client.get(path(playlist.id))).status_code == 200

    stored_owner = await session.get(User, owner.id)
    assert stored_owner is not None
    stored_owner.deleted_at = stored_owner.created_at
    await session.commit()

    assert (await client.get(path(playlist.id))).status_code == 404
    assert (await client.get(f"/api/v1/users/{owner.username}/playlists")).status_code == 404


async def test_stale_versions_are_refused_and_change_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_account(session)
    headers = headers_for(runtime, owner)
    created = await _create(client, headers, name="First")
    url = path(created["id"])

    first = await client.patch(url, json={"name": "Second"}, headers={**headers, "If-Match": '"1"'})
    assert first.status_code == 200

    stale = await client.patch(url, json={"name": "Lost"}, headers={**headers, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    in_body = await client.patch(url, json={"name": "Lost", "version": 1}, headers=headers)
    assert in_body.status_code == 409
    assert in_body.headers["content-type"] == PROBLEM
    unversioned = await client.patch(url, json={"name": "Lost"}, headers=headers)
    assert unversioned.status_code == 428
    weak = await client.patch(url, json={"name": "Lost"}, headers={**headers, "If-Match": 'W/"2"'})
    assert weak.status_code == 400

    current = (await client.get(url, headers=headers)).json()
    assert (current["name"], current["version"]) == ("Second", 2)
    current_version = await client.patch(
        url, json={"is_public": True, "version": 2}, headers=headers
    )
    assert current_version.status_code == 200
    assert current_version.json()["version"] == 3


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 101},
        {"name": "line\nbreak"},
        {"name": "bell\x07"},
        {"name": "Fine", "description": "x" * 5001},
        {"name": "Fine", "description": "null\x00byte"},
        {"name": "Fine", "is_public": "perhaps"},
        {"name": "Fine", "owner_id": str(uuid.uuid4())},
        {"name": 42},
    ],
)
async def test_invalid_new_playlists_are_422_problems(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, body: dict[str, object]
) -> None:
    owner = await make_account(session)
    response = await client.post(PLAYLISTS, json=body, headers=headers_for(runtime, owner))
    assert response.status_code == 422, body
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 422


@pytest.mark.parametrize(
    "body",
    [
        {"name": None},
        {"is_public": None},
        {"name": ""},
        {"name": "tab\there"},
        {"item_count": 7},
        {"version": 0},
    ],
)
async def test_invalid_edits_are_422_problems_and_change_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, body: dict[str, object]
) -> None:
    owner = await make_account(session)
    playlist = await make_playlist(session, owner, name="Kept")
    await session.commit()
    headers = headers_for(runtime, owner)
    response = await client.patch(
        path(playlist.id), json=body, headers={**headers, "If-Match": '"1"'}
    )
    assert response.status_code == 422, body
    assert response.headers["content-type"] == PROBLEM
    current = (await client.get(path(playlist.id), headers=headers)).json()
    assert (current["name"], current["version"]) == ("Kept", 1)


async def test_malformed_ids_and_cursors_are_client_errors(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_account(session)
    headers = headers_for(runtime, owner)
    assert (await client.get(path("not-a-uuid"), headers=headers)).status_code == 422
    forged = await client.get(PLAYLISTS, params={"cursor": "Zm9yZ2Vk"}, headers=headers)
    assert forged.status_code == 400
    assert forged.headers["content-type"] == PROBLEM
