"""Playlist items: added, removed and reordered with dense positions and an exact count."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.models import Content, Playlist, PlaylistItem, User
from dreamlust.models.enums import ContentStatus, ContentType
from dreamlust.playlists.schemas import MAX_ITEMS
from dreamlust.runtime import Runtime
from tests.conftest import StatementCounter
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content, make_creator, make_playlist
from tests.playlists.helpers import listed_content_ids, path, stored

PROBLEM = "application/problem+json"


async def _setup(
    session: AsyncSession, runtime: Runtime, contents: int, **playlist_fields: object
) -> tuple[User, dict[str, str], Playlist, list[Content]]:
    """An owner with an empty playlist, and `contents` items of published content."""
    creator = await make_creator(session)
    items = [await make_content(session, creator) for _ in range(contents)]
    owner = await make_account(session)
    playlist = await make_playlist(session, owner, **playlist_fields)
    await session.commit()
    return owner, headers_for(runtime, owner), playlist, items


async def _add(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    playlist: Playlist,
    content: Content | uuid.UUID,
    position: int | None = None,
) -> httpx.Response:
    content_id = content if isinstance(content, uuid.UUID) else content.id
    body: dict[str, object] = {"content_id": str(content_id)}
    if position is not None:
        body["position"] = position
    return await client.post(path(playlist.id, "items"), json=body, headers=headers)


async def _reorder(
    client: httpx.AsyncClient, headers: dict[str, str], playlist: Playlist, order: list[uuid.UUID]
) -> httpx.Response:
    return await client.put(
        path(playlist.id, "items", "order"),
        json={"content_ids": [str(content_id) for content_id in order]},
        headers=headers,
    )


async def test_items_go_to_the_end_or_to_a_position_and_shift_the_rest(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _owner, headers, playlist, (a, b, c, d) = await _setup(session, runtime, 4)

    added = await _add(client, headers, playlist, a)
    assert added.status_code == 201, added.text
    assert added.json()["position"] == 0
    assert added.json()["content"]["id"] == str(a.id)
    assert added.json()["content"]["title"] == a.title
    assert (await _add(client, headers, playlist, b)).json()["position"] == 1
    assert (await _add(client, headers, playlist, c, position=0)).json()["position"] == 0
    assert (await _add(client, headers, playlist, d, position=2)).json()["position"] == 2

    state = await stored(session, playlist.id)
    assert state.content_ids == [c.id, a.id, d.id, b.id]
    state.assert_dense()
    assert await listed_content_ids(client, playlist.id, headers) == [
        str(c.id),
        str(a.id),
        str(d.id),
        str(b.id),
    ]
    read = (await client.get(path(playlist.id), headers=headers)).json()
    assert (read["item_count"], read["version"]) == (4, 1)


async def test_adding_refuses_duplicates_bad_positions_and_content_out_of_reach(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _owner, headers, playlist, (a, b) = await _setup(session, runtime, 2)
    draft = await make_content(session, await make_creator(session), status=ContentStatus.DRAFT)
    await session.commit()
    assert (await _add(client, headers, playlist, a)).status_code == 201

    duplicate = await _add(client, headers, playlist, a, position=0)
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == PROBLEM
    beyond = await _add(client, headers, playlist, b, position=2)
    assert beyond.status_code == 422
    assert beyond.json()["errors"][0]["loc"] == ["body", "position"]
    for out_of_reach in (draft.id, uuid.uuid4()):
        refused = await _add(client, headers, playlist, out_of_reach)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["loc"] == ["body", "content_id"]
    for body in (
        {"content_id": str(b.id), "position": -1},
        {"content_id": str(b.id), "position": "first"},
        {"content_id": "not-a-uuid"},
        {"content_id": str(b.id), "note": "hi"},
        {},
    ):
        invalid = await client.post(path(playlist.id, "items"), json=body, headers=headers)
        assert invalid.status_code == 422, body
        assert invalid.headers["content-type"] == PROBLEM

    state = await stored(session, playlist.id)
    assert state.content_ids == [a.id]
    state.assert_dense()


async def test_removing_an_item_closes_the_gap(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _owner, headers, playlist, contents = await _setup(session, runtime, 5)
    for content in contents:
        assert (await _add(client, headers, playlist, content)).status_code == 201

    for removed in (contents[2], contents[0], contents[4]):
        url = path(playlist.id, "items", str(removed.id))
        assert (await client.delete(url, headers=headers)).status_code == 204
        state = await stored(session, playlist.id)
        assert removed.id not in state.content_ids
        state.assert_dense()
    assert state.content_ids == [contents[1].id, contents[3].id]

    again = await client.delete(path(playlist.id, "items", str(contents[0].id)), headers=headers)
    assert again.status_code == 404
    assert (await stored(session, playlist.id)).item_count == 2


async def test_reordering_sets_the_full_new_order(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner, headers, playlist, contents = await _setup(session, runtime, 4)
    for content in contents:
        await _add(client, headers, playlist, content)
    new_order = [contents[index].id for index in (3, 1, 0, 2)]

    response = await _reorder(client, headers, playlist, new_order)

    assert response.status_code == 200, response.text
    assert response.json()["item_count"] == 4
    assert response.json()["owner"]["username"] == owner.username
    state = await stored(session, playlist.id)
    assert state.content_ids == new_order
    state.assert_dense()
    assert await listed_content_ids(client, playlist.id, headers) == [str(i) for i in new_order]


async def test_a_stale_partial_or_duplicated_order_is_409_and_changes_nothing(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _owner, headers, playlist, contents = await _setup(session, runtime, 4)
    a, b, c, outsider = contents
    for content in (a, b, c):
        await _add(client, headers, playlist, content)
    before = await stored(session, playlist.id)

    for order in (
        [c.id, a.id],  # an item missing
        [c.id, b.id, a.id, outsider.id],  # an item that is not in the playlist
        [c.id, b.id, outsider.id],  # a stale copy: one item swapped for another
        [c.id, b.id, a.id, a.id],  # an item twice
        [c.id, c.id, b.id],  # an item twice, another missing
        [],
    ):
        response = await _reorder(client, headers, playlist, order)
        assert response.status_code == 409, order
        assert response.headers["content-type"] == PROBLEM
        assert await stored(session, playlist.id) == before

    too_long = await _reorder(client, headers, playlist, [a.id] * (MAX_ITEMS + 1))
    assert too_long.status_code == 422
    assert await stored(session, playlist.id) == before


async def test_an_empty_playlist_is_reordered_by_an_empty_list(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _owner, headers, playlist, _contents = await _setup(session, runtime, 0)
    assert (await _reorder(client, headers, playlist, [])).status_code == 200
    assert (await stored(session, playlist.id)).item_count == 0


async def test_deleted_and_hidden_content_is_skipped_in_reads_but_still_counted(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _owner, headers, playlist, contents = await _setup(session, runtime, 5, is_public=True)
    for content in contents:
        await _add(client, headers, playlist, content)
    deleted, hidden, nsfw = contents[0], contents[2], contents[3]
    await session.execute(
        update(Content).where(Content.id == deleted.id).values(deleted_at=utcnow())
    )
    await session.execute(update(Content).where(Content.id == hidden.id).values(is_public=False))
    await session.execute(update(Content).where(Content.id == nsfw.id).values(is_nsfw=True))
    await session.commit()

    page = await client.get(path(playlist.id, "items"), headers=headers)
    assert [(item["position"], item["content"]["id"]) for item in page.json()["items"]] == [
        (1, str(contents[1].id)),
        (4, str(contents[4].id)),
    ]
    assert await listed_content_ids(client, playlist.id) == [
        str(contents[1].id),
        str(contents[4].id),
    ]
    assert (await client.get(path(playlist.id))).json()["item_count"] == 5
    state = await stored(session, playlist.id)
    state.assert_dense()

    # The owner still removes and reorders hidden items by their content id.
    url = path(playlist.id, "items", str(deleted.id))
    assert (await client.delete(url, headers=headers)).status_code == 204
    order = [content.id for content in reversed(contents[1:])]
    assert (await _reorder(client, headers, playlist, order)).status_code == 200
    state = await stored(session, playlist.id)
    assert state.content_ids == order
    state.assert_dense()


async def test_items_are_paged_in_position_order(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _owner, headers, playlist, contents = await _setup(session, runtime, 5)
    for content in contents:
        await _add(client, headers, playlist, content, position=0)

    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(path(playlist.id, "items"), params=params, headers=headers)).json()
        seen.extend(item["position"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [0, 1, 2, 3, 4]
    assert await listed_content_ids(client, playlist.id, headers) == [
        str(content.id) for content in reversed(contents)
    ]


async def _fill(session: AsyncSession, playlist: Playlist, count: int) -> list[uuid.UUID]:
    """`count` published items in the playlist, inserted in bulk; their content ids."""
    creator = await make_creator(session)
    published_at = utcnow() - timedelta(hours=1)
    content_ids = [new_id() for _ in range(count)]
    await session.execute(
        insert(Content),
        [
            {
                "id": content_id,
                "creator_id": creator.id,
                "title": f"Bulk {number}",
                "type": ContentType.VIDEO,
                "status": ContentStatus.PUBLISHED,
                "published_at": published_at,
            }
            for number, content_id in enumerate(content_ids)
        ],
    )
    await session.execute(
        insert(PlaylistItem),
        [
            {"id": new_id(), "playlist_id": playlist.id, "content_id": content_id, "position": n}
            for n, content_id in enumerate(content_ids)
        ],
    )
    await session.execute(
        update(Playlist).where(Playlist.id == playlist.id).values(item_count=count)
    )
    await session.commit()
    return content_ids


async def test_a_playlist_holds_at_most_five_thousand_items(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _owner, headers, playlist, (extra,) = await _setup(session, runtime, 1)
    content_ids = await _fill(session, playlist, MAX_ITEMS)

    full = await _add(client, headers, playlist, extra)
    assert full.status_code == 409
    assert "5000" in full.json()["detail"]
    assert (await stored(session, playlist.id)).item_count == MAX_ITEMS

    # A full reorder of every item is two set-based statements on either database.
    reversed_order = content_ids[::-1]
    assert (await _reorder(client, headers, playlist, reversed_order)).status_code == 200
    state = await stored(session, playlist.id)
    assert state.content_ids == reversed_order
    state.assert_dense()

    middle = path(playlist.id, "items", str(reversed_order[2500]))
    assert (await client.delete(middle, headers=headers)).status_code == 204
    assert (await _add(client, headers, playlist, extra, position=0)).status_code == 201
    state = await stored(session, playlist.id)
    assert state.content_ids == [extra.id, *reversed_order[:2500], *reversed_order[2501:]]
    state.assert_dense()


async def test_twenty_concurrent_adds_leave_dense_positions_and_an_exact_count(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _owner, headers, playlist, contents = await _setup(session, runtime, 20)

    responses = await asyncio.gather(
        *(
            _add(client, headers, playlist, content, position=0 if number % 2 else None)
            for number, content in enumerate(contents)
        )
    )

    assert [response.status_code for response in responses] == [201] * 20
    state = await stored(session, playlist.id)
    assert sorted(state.content_ids) == sorted(content.id for content in contents)
    state.assert_dense()


async def test_concurrent_adds_and_removes_keep_the_playlist_consistent(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    _owner, headers, playlist, contents = await _setup(session, runtime, 20)
    kept, removed = contents[:10], contents[10:]
    for content in removed:
        await _add(client, headers, playlist, content)

    responses = await asyncio.gather(
        *(_add(client, headers, playlist, content, position=0) for content in kept),
        *(
            client.delete(path(playlist.id, "items", str(content.id)), headers=headers)
            for content in removed
        ),
        _add(client, headers, playlist, kept[0]),
    )

    statuses = [response.status_code for response in responses]
    assert sorted([statuses[0], statuses[-1]]) == [201, 409]  # kept[0] goes in once
    assert statuses[1:10] == [201] * 9
    assert statuses[10:20] == [204] * 10
    state = await stored(session, playlist.id)
    assert sorted(state.content_ids) == sorted(content.id for content in kept)
    state.assert_dense()


@pytest.mark.parametrize("size", [3, 30])
async def test_a_page_of_items_takes_the_same_statements_however_many_items_there_are(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    count_statements: StatementCounter,
    size: int,
) -> None:
    _owner, _headers, playlist, _contents = await _setup(session, runtime, 0, is_public=True)
    await _fill(session, playlist, size)
    count_statements.clear()

    response = await client.get(path(playlist.id, "items"))

    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == min(size, 20)
    # The playlist, then the page of cards (creators, categories and tags within it).
    assert count_statements.count == 2, count_statements.statements
