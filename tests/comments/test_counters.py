"""Counters stay exact: `content.comment_count` counts an item's live comments, replies
included, and `reply_count` a comment's live replies, through every create, delete and
restore, and however many requests race. A deleted comment with live replies stays as a
tombstone whose replies remain reachable."""

import asyncio
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Comment
from dreamlust.models.enums import UserRole
from dreamlust.runtime import Runtime
from tests.comments.helpers import API, assert_counts_exact, make_commenter, make_item, post, texts


async def _listed(client: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_deleting_a_parent_with_replies_leaves_a_tombstone_and_counts_stay_exact(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    alice = await make_commenter(session, runtime)
    bob = await make_commenter(session, runtime)
    staff = await make_commenter(session, runtime, role=UserRole.MODERATOR)
    parent = await post(client, item, alice, "parent")
    first = await post(client, item, bob, "first reply", parent_id=parent["id"])
    second = await post(client, item, alice, "second reply", parent_id=first["id"])
    lone = await post(client, item, bob, "lone")
    replies = f"{API}/comments/{parent['id']}/replies"
    assert await assert_counts_exact(session, item.content.id) == 4

    assert (await client.delete(f"{API}/comments/{parent['id']}", headers=alice)).status_code == 204
    assert await assert_counts_exact(session, item.content.id) == 3
    shown_lone, tombstone = await _listed(client, item.comments)
    assert shown_lone["id"] == lone["id"]
    assert tombstone["id"] == parent["id"]
    assert (tombstone["text"], tombstone["author"], tombstone["is_deleted"]) == (None, None, True)
    assert tombstone["reply_count"] == 2
    assert await texts(client, replies) == ["first reply", "second reply"]
    assert (await client.get(f"{API}/comments/{parent['id']}")).json()["is_deleted"] is True

    deleted_lone = await client.delete(f"{API}/comments/{lone['id']}", headers=item.owner_headers)
    assert deleted_lone.status_code == 204
    assert await assert_counts_exact(session, item.content.id) == 2
    assert [comment["id"] for comment in await _listed(client, item.comments)] == [parent["id"]]

    assert (await client.delete(f"{API}/comments/{first['id']}", headers=bob)).status_code == 204
    assert await assert_counts_exact(session, item.content.id) == 1
    assert (await _listed(client, item.comments))[0]["reply_count"] == 1
    assert await texts(client, replies) == ["second reply"]

    assert (await client.delete(f"{API}/comments/{second['id']}", headers=staff)).status_code == 204
    assert await assert_counts_exact(session, item.content.id) == 0
    assert await _listed(client, item.comments) == []  # no live replies: the tombstone goes
    assert (await client.get(replies)).status_code == 404

    restored = await client.post(f"{API}/comments/{second['id']}/restore", headers=staff)
    assert restored.status_code == 200, restored.text
    assert restored.json()["text"] == "second reply"
    assert await assert_counts_exact(session, item.content.id) == 1
    [back] = await _listed(client, item.comments)
    assert (back["id"], back["is_deleted"], back["reply_count"]) == (parent["id"], True, 1)

    restored = await client.post(f"{API}/comments/{parent['id']}/restore", headers=staff)
    assert restored.status_code == 200, restored.text
    assert await assert_counts_exact(session, item.content.id) == 2
    [whole] = await _listed(client, item.comments)
    assert (whole["text"], whole["is_deleted"], whole["reply_count"]) == ("parent", False, 1)
    assert whole["author"] is not None

    for comment in (lone, first):
        response = await client.post(f"{API}/comments/{comment['id']}/restore", headers=staff)
        assert response.status_code == 200, response.text
    assert await assert_counts_exact(session, item.content.id) == 4
    assert await texts(client, replies) == ["first reply", "second reply"]


async def test_a_deleted_pinned_comment_is_no_longer_pinned(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    headers = await make_commenter(session, runtime)
    staff = await make_commenter(session, runtime, role=UserRole.MODERATOR)
    comment = await post(client, item, headers, "pinned, then deleted")
    path = f"{API}/comments/{comment['id']}"
    await client.post(f"{path}/pin", headers=item.owner_headers)

    await client.delete(path, headers=headers)
    restored = await client.post(f"{path}/restore", headers=staff)

    assert restored.json()["is_pinned"] is False


async def test_twenty_concurrent_comments_are_all_counted(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    top = await post(client, item, item.owner_headers, "thread")
    writers = [await make_commenter(session, runtime) for _ in range(20)]

    responses = await asyncio.gather(
        *(
            client.post(
                item.comments,
                json={"text": f"comment {n}", **({"parent_id": top["id"]} if n % 2 else {})},
                headers=headers,
            )
            for n, headers in enumerate(writers)
        )
    )

    assert [response.status_code for response in responses] == [201] * 20
    assert await assert_counts_exact(session, item.content.id) == 21
    assert (await _listed(client, item.comments))[-1]["reply_count"] == 10


async def test_concurrent_deletes_and_restores_keep_counts_exact(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    staff = await make_commenter(session, runtime, role=UserRole.MODERATOR)
    top = await post(client, item, item.owner_headers, "thread")
    writers = [await make_commenter(session, runtime) for _ in range(6)]
    replies = [
        await post(client, item, headers, f"reply {n}", parent_id=top["id"])
        for n, headers in enumerate(writers)
    ]

    def delete(comment: dict[str, Any]) -> Any:
        return client.delete(f"{API}/comments/{comment['id']}", headers=staff)

    deletes = await asyncio.gather(*(delete(reply) for reply in replies for _ in range(3)))
    assert sorted(response.status_code for response in deletes).count(204) == len(replies)
    assert {response.status_code for response in deletes} <= {204, 404, 409}
    assert await assert_counts_exact(session, item.content.id) == 1

    restores = await asyncio.gather(
        *(
            client.post(f"{API}/comments/{reply['id']}/restore", headers=staff)
            for reply in replies
            for _ in range(2)
        )
    )
    assert [response.status_code for response in restores].count(200) == len(replies)
    assert {response.status_code for response in restores} <= {200, 409}
    assert await assert_counts_exact(session, item.content.id) == 1 + len(replies)


async def test_concurrent_pins_leave_exactly_one_pinned_comment(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    writers = [await make_commenter(session, runtime) for _ in range(12)]
    comments = [await post(client, item, headers, "pin me") for headers in writers]

    responses = await asyncio.gather(
        *(
            client.post(f"{API}/comments/{comment['id']}/pin", headers=item.owner_headers)
            for comment in comments
        )
    )

    assert {response.status_code for response in responses} == {200}
    pinned = await session.scalar(
        select(func.count()).where(Comment.content_id == item.content.id, Comment.is_pinned)
    )
    await session.commit()
    assert pinned == 1
    listed = await _listed(client, item.comments)
    assert [comment["is_pinned"] for comment in listed] == [True] + [False] * 11
