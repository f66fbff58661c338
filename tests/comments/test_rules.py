"""What a new comment must be: valid text on content the writer may see and comment on,
under a real parent, and not too many of them in a row."""

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import Comment
from dreamlust.models.enums import ContentStatus
from dreamlust.runtime import Runtime
from tests.comments.helpers import API, make_commenter, make_item, post, texts


async def _stored_comments(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Comment).execution_options(**{INCLUDE_DELETED: True})
    )
    await session.commit()
    return int(count or 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": " \n\t  "}, "text"),
        ({"text": "x" * 5001}, "text"),
        ({"text": "bell \x07"}, "text"),
        ({"text": "null \x00 byte"}, "text"),
        ({"text": "escape \x1b[31m red"}, "text"),
        ({"text": "fine", "pinned": True}, "pinned"),
        ({"text": "fine", "parent_id": "not-a-uuid"}, "parent_id"),
        ({}, "text"),
    ],
)
async def test_bad_comments_are_refused_with_a_problem(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    body: dict[str, Any],
    field: str,
) -> None:
    item = await make_item(session, runtime)
    headers = await make_commenter(session, runtime)

    response = await client.post(item.comments, json=body, headers=headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["loc"][-1] for error in response.json()["errors"]]
    assert await _stored_comments(session) == 0


async def test_the_longest_comment_fits_after_trimming(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    headers = await make_commenter(session, runtime)

    created = await post(client, item, headers, "   " + "x" * 5000 + "\r\n")

    assert len(created["text"]) == 5000


async def test_edits_follow_the_same_text_rules(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    headers = await make_commenter(session, runtime)
    comment = await post(client, item, headers, "first")
    path = f"{API}/comments/{comment['id']}"

    for body in ({"text": "   "}, {"text": "x" * 5001}, {"text": "a\x0cb"}, {"text": "ok", "x": 1}):
        response = await client.patch(path, json=body, headers={**headers, "If-Match": '"1"'})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert await texts(client, item.comments) == ["first"]


async def test_comments_turned_off_refuse_new_ones_but_keep_the_old(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    headers = await make_commenter(session, runtime)
    await post(client, item, headers, "before")
    item.content.allow_comments = False
    await session.commit()

    refused = await client.post(item.comments, json={"text": "after"}, headers=headers)
    own = await client.post(item.comments, json={"text": "mine"}, headers=item.owner_headers)

    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert own.status_code == 403
    assert await texts(client, item.comments) == ["before"]


async def test_comments_on_content_the_caller_cannot_see_are_404(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    draft = await make_item(session, runtime, status=ContentStatus.DRAFT)
    own = await post(client, draft, draft.owner_headers, "note to self")
    stranger = await make_commenter(session, runtime)

    assert (await client.get(draft.comments)).status_code == 404
    assert (await client.get(draft.comments, headers=stranger)).status_code == 404
    posted = await client.post(draft.comments, json={"text": "hi"}, headers=stranger)
    assert posted.status_code == 404
    assert posted.headers["content-type"] == "application/problem+json"
    for path in (f"{API}/comments/{own['id']}", f"{API}/comments/{own['id']}/replies"):
        assert (await client.get(path, headers=stranger)).status_code == 404
    assert (await client.get(draft.comments, headers=draft.owner_headers)).status_code == 200
    unknown = f"{API}/content/00000000-0000-7000-8000-000000000000/comments"
    assert (await client.get(unknown)).status_code == 404
    assert (await client.post(draft.comments, json={"text": "hi"})).status_code == 401


async def test_nsfw_content_is_hidden_from_anonymous_readers_of_its_comments(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime, is_nsfw=True)
    await post(client, item, item.owner_headers, "hello")

    assert (await client.get(item.comments)).status_code == 404
    assert (await client.get(item.comments, headers=item.owner_headers)).status_code == 200


async def test_a_parent_must_be_a_live_comment_on_the_same_content(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    elsewhere = await make_item(session, runtime)
    headers = await make_commenter(session, runtime)
    foreign = await post(client, elsewhere, headers, "over there")
    gone = await post(client, item, headers, "gone")
    deleted = await client.delete(f"{API}/comments/{gone['id']}", headers=headers)
    assert deleted.status_code == 204

    for parent_id in (foreign["id"], gone["id"], "00000000-0000-7000-8000-000000000000"):
        response = await client.post(
            item.comments, json={"text": "reply", "parent_id": parent_id}, headers=headers
        )
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "parent_id"]
    assert await texts(client, item.comments) == []


async def test_commenting_too_fast_is_refused_with_retry_after(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, settings: Settings
) -> None:
    item = await make_item(session, runtime)
    chatty = await make_commenter(session, runtime)
    calm = await make_commenter(session, runtime)
    allowed = int(settings.rate_limit_comment.split("/")[0])
    for number in range(allowed):
        await post(client, item, chatty, f"comment {number}")

    refused = await client.post(item.comments, json={"text": "one more"}, headers=chatty)

    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["Retry-After"]) >= 1
    await post(client, item, calm, "someone else may still comment")
    assert len(await texts(client, item.comments, limit="100")) == allowed + 1
