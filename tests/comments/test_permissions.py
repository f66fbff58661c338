"""Who may edit, delete, pin and restore a comment, and edits that lose no one's work."""

from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.models import Comment
from dreamlust.models.enums import UserRole
from dreamlust.runtime import Runtime
from tests.comments.helpers import API, Item, make_commenter, make_item, post, texts

ROLES = ("author", "content owner", "staff", "other user", "anonymous")


@dataclass(frozen=True)
class Cast:
    item: Item
    headers: dict[str, dict[str, str]]

    async def comment(self, client: httpx.AsyncClient, text: str = "a comment") -> str:
        created = await post(client, self.item, self.headers["author"], text)
        return f"{API}/comments/{created['id']}"


@pytest.fixture
async def cast(session: AsyncSession, runtime: Runtime) -> Cast:
    item = await make_item(session, runtime)
    headers = {
        "author": await make_commenter(session, runtime),
        "content owner": item.owner_headers,
        "staff": await make_commenter(session, runtime, role=UserRole.MODERATOR),
        "other user": await make_commenter(session, runtime),
        "anonymous": {},
    }
    return Cast(item, headers)


@pytest.mark.parametrize(
    ("role", "expected"),
    list(zip(ROLES, (200, 403, 403, 403, 401), strict=True)),
)
async def test_only_the_author_edits(
    client: httpx.AsyncClient, cast: Cast, role: str, expected: int
) -> None:
    path = await cast.comment(client, "draft words")

    response = await client.patch(
        path, json={"text": " final words "}, headers={**cast.headers[role], "If-Match": '"1"'}
    )

    assert response.status_code == expected, response.text
    shown = (await client.get(path)).json()
    if expected == 200:
        assert response.headers["ETag"] == '"2"'
        assert (shown["text"], shown["is_edited"], shown["version"]) == ("final words", True, 2)
    else:
        assert response.headers["content-type"] == "application/problem+json"
        assert (shown["text"], shown["is_edited"], shown["version"]) == ("draft words", False, 1)


@pytest.mark.parametrize(
    ("role", "expected"),
    list(zip(ROLES, (204, 204, 204, 403, 401), strict=True)),
)
async def test_the_author_the_content_owner_and_staff_delete(
    client: httpx.AsyncClient, cast: Cast, role: str, expected: int
) -> None:
    path = await cast.comment(client, "doomed")

    response = await client.delete(path, headers=cast.headers[role])

    assert response.status_code == expected, response.text
    remaining = await texts(client, cast.item.comments)
    assert remaining == ([] if expected == 204 else ["doomed"])
    if expected == 204:
        assert (await client.get(path)).status_code == 404
        assert (await client.delete(path, headers=cast.headers[role])).status_code == 404


@pytest.mark.parametrize(
    ("role", "expected"),
    list(zip(ROLES, (403, 200, 403, 403, 401), strict=True)),
)
async def test_only_the_content_owner_pins(
    client: httpx.AsyncClient, cast: Cast, role: str, expected: int
) -> None:
    path = await cast.comment(client)

    pinned = await client.post(f"{path}/pin", headers=cast.headers[role])

    assert pinned.status_code == expected, pinned.text
    assert (await client.get(path)).json()["is_pinned"] is (expected == 200)
    await client.post(f"{path}/pin", headers=cast.headers["content owner"])
    unpinned = await client.delete(f"{path}/pin", headers=cast.headers[role])
    assert unpinned.status_code == expected, unpinned.text
    assert (await client.get(path)).json()["is_pinned"] is (expected != 200)


@pytest.mark.parametrize(
    ("role", "expected"),
    list(zip(ROLES, (403, 403, 200, 403, 401), strict=True)),
)
async def test_only_staff_restore(
    client: httpx.AsyncClient, cast: Cast, role: str, expected: int
) -> None:
    path = await cast.comment(client, "back again")
    await client.delete(path, headers=cast.headers["author"])

    response = await client.post(f"{path}/restore", headers=cast.headers[role])

    assert response.status_code == expected, response.text
    assert await texts(client, cast.item.comments) == (["back again"] if expected == 200 else [])


async def test_restoring_is_limited_to_deleted_comments_within_the_retention(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, cast: Cast
) -> None:
    staff = cast.headers["staff"]
    live = await cast.comment(client, "never deleted")
    old = await cast.comment(client, "long gone")
    await client.delete(old, headers=staff)
    await session.execute(
        update(Comment)
        .where(Comment.text == "long gone")
        .values(deleted_at=utcnow() - runtime.settings.soft_delete_retention - timedelta(hours=1))
    )
    await session.commit()

    assert (await client.post(f"{live}/restore", headers=staff)).status_code == 409
    assert (await client.post(f"{old}/restore", headers=staff)).status_code == 409
    unknown = f"{API}/comments/00000000-0000-7000-8000-000000000000/restore"
    assert (await client.post(unknown, headers=staff)).status_code == 404
    assert await texts(client, cast.item.comments) == ["never deleted"]


async def test_a_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    path = await cast.comment(client, "v1")
    author = cast.headers["author"]
    first = await client.patch(path, json={"text": "v2"}, headers={**author, "If-Match": '"1"'})
    assert first.status_code == 200, first.text

    stale = await client.patch(path, json={"text": "v3"}, headers={**author, "If-Match": '"1"'})

    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert (await client.get(path)).json()["text"] == "v2"
    in_body = await client.patch(path, json={"text": "v3", "version": 1}, headers=author)
    assert in_body.status_code == 409
    without = await client.patch(path, json={"text": "v3"}, headers=author)
    assert without.status_code == 428
    weak = await client.patch(path, json={"text": "v3"}, headers={**author, "If-Match": 'W/"2"'})
    assert weak.status_code == 400
    current = await client.patch(path, json={"text": "v3", "version": 2}, headers=author)
    assert current.status_code == 200
    assert current.json()["text"] == "v3"


async def test_deleted_comments_cannot_be_edited_or_pinned(
    client: httpx.AsyncClient, cast: Cast
) -> None:
    path = await cast.comment(client)
    await client.delete(path, headers=cast.headers["author"])

    edited = await client.patch(
        path, json={"text": "sneaky"}, headers={**cast.headers["author"], "If-Match": '"2"'}
    )
    pinned = await client.post(f"{path}/pin", headers=cast.headers["content owner"])

    assert (edited.status_code, pinned.status_code) == (404, 404)
