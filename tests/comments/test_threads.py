"""Reading and writing threads: top-level lists with the pinned comment first, replies one
level deep, keyset pages, and a page that costs the same few statements however long."""

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.models.enums import UserRole
from dreamlust.runtime import Runtime
from tests.comments.helpers import API, make_commenter, make_item, post, texts
from tests.conftest import StatementCounter
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.comments import make_comment


async def test_a_new_comment_is_answered_with_its_author_and_listed(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    author = await make_account(session, display_name="Ada L.", avatar_url="https://a.example/1")

    response = await client.post(
        item.comments, json={"text": "  lovely\nwork\t!  "}, headers=headers_for(runtime, author)
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["ETag"] == '"1"'
    assert created["text"] == "lovely\nwork\t!"
    assert created["author"] == {
        "username": author.username,
        "display_name": "Ada L.",
        "avatar_url": "https://a.example/1",
    }
    assert created["parent_id"] is None
    assert (created["reply_count"], created["like_count"], created["version"]) == (0, 0, 1)
    assert (created["is_edited"], created["is_pinned"], created["is_deleted"]) == (False,) * 3
    listed = (await client.get(item.comments)).json()
    assert listed == {"items": [created], "next_cursor": None}
    assert (await client.get(f"{API}/comments/{created['id']}")).json() == created


async def test_top_level_comments_come_newest_first_in_pages_with_reply_counts(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    headers = await make_commenter(session, runtime)
    first = await post(client, item, headers, "one")
    for text in ("two", "three", "four", "five"):
        await post(client, item, headers, text)
    replier = await make_commenter(session, runtime)
    await post(client, item, replier, "re: one", parent_id=first["id"])

    seen: list[str] = []
    counts: dict[str, int] = {}
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await client.get(item.comments, params=params)).json()
        assert len(page["items"]) <= 2
        seen += [comment["text"] for comment in page["items"]]
        counts |= {comment["text"]: comment["reply_count"] for comment in page["items"]}
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["five", "four", "three", "two", "one"]
    assert counts == {"five": 0, "four": 0, "three": 0, "two": 0, "one": 1}


async def test_replies_come_oldest_first_and_a_reply_to_a_reply_joins_the_thread(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    alice = await make_commenter(session, runtime)
    bob = await make_commenter(session, runtime)
    top = await post(client, item, alice, "question")
    answer = await post(client, item, bob, "answer", parent_id=top["id"])
    follow_up = await post(client, item, alice, "thanks", parent_id=answer["id"])
    await post(client, item, bob, "welcome", parent_id=top["id"])

    assert follow_up["parent_id"] == top["id"]
    replies = f"{API}/comments/{top['id']}/replies"
    assert await texts(client, replies) == ["answer", "thanks", "welcome"]
    first_page = (await client.get(replies, params={"limit": "2"})).json()
    assert [reply["text"] for reply in first_page["items"]] == ["answer", "thanks"]
    rest = await texts(client, replies, limit="2", cursor=first_page["next_cursor"])
    assert rest == ["welcome"]
    assert await texts(client, item.comments) == ["question"]
    assert (await client.get(item.comments)).json()["items"][0]["reply_count"] == 3
    assert await texts(client, f"{API}/comments/{answer['id']}/replies") == []


async def test_the_pinned_comment_leads_the_list_once(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    headers = await make_commenter(session, runtime)
    oldest = await post(client, item, headers, "oldest")
    for text in ("b", "c", "d"):
        await post(client, item, headers, text)

    pinned = await client.post(f"{API}/comments/{oldest['id']}/pin", headers=item.owner_headers)

    assert pinned.status_code == 200, pinned.text
    assert pinned.json()["is_pinned"] is True
    assert pinned.json()["version"] == oldest["version"]  # pinning is not an edit
    assert await texts(client, item.comments) == ["oldest", "d", "c", "b"]
    first = (await client.get(item.comments, params={"limit": "2"})).json()
    assert [comment["text"] for comment in first["items"]] == ["oldest", "d"]
    rest = await texts(client, item.comments, limit="2", cursor=first["next_cursor"])
    assert rest == ["c", "b"]

    unpinned = await client.delete(f"{API}/comments/{oldest['id']}/pin", headers=item.owner_headers)
    assert unpinned.json()["is_pinned"] is False
    assert await texts(client, item.comments) == ["d", "c", "b", "oldest"]


async def test_pinning_another_comment_unpins_the_first(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    headers = await make_commenter(session, runtime)
    first = await post(client, item, headers, "first")
    second = await post(client, item, headers, "second")
    await post(client, item, headers, "third")

    for comment in (second, first):
        response = await client.post(
            f"{API}/comments/{comment['id']}/pin", headers=item.owner_headers
        )
        assert response.status_code == 200, response.text

    listed = (await client.get(item.comments)).json()["items"]
    assert [(c["text"], c["is_pinned"]) for c in listed] == [
        ("first", True),
        ("third", False),
        ("second", False),
    ]


async def test_replies_cannot_be_pinned(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    headers = await make_commenter(session, runtime)
    top = await post(client, item, headers, "top")
    reply = await post(client, item, headers, "reply", parent_id=top["id"])

    response = await client.post(f"{API}/comments/{reply['id']}/pin", headers=item.owner_headers)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


async def test_sort_top_puts_the_most_liked_first_after_the_pinned_one(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    author = await make_account(session)
    start = utcnow() - timedelta(hours=1)
    for minute, (text, likes) in enumerate(
        [("pinned", 0), ("popular", 9), ("old tie", 3), ("new tie", 3), ("quiet", 0)]
    ):
        await make_comment(
            session,
            item.content,
            author,
            text=text,
            like_count=likes,
            is_pinned=text == "pinned",
            created_at=start + timedelta(minutes=minute),
        )
    await session.commit()

    assert await texts(client, item.comments, sort="top") == [
        "pinned",
        "popular",
        "new tie",
        "old tie",
        "quiet",
    ]
    first = (await client.get(item.comments, params={"sort": "top", "limit": "3"})).json()
    rest = await texts(client, item.comments, sort="top", limit="3", cursor=first["next_cursor"])
    assert rest == ["old tie", "quiet"]
    newest = await texts(client, item.comments)
    assert newest == ["pinned", "quiet", "new tie", "old tie", "popular"]


async def test_a_cursor_of_one_sort_is_refused_by_the_other(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    item = await make_item(session, runtime)
    headers = await make_commenter(session, runtime)
    for text in ("a", "b"):
        await post(client, item, headers, text)
    cursor = (await client.get(item.comments, params={"limit": "1"})).json()["next_cursor"]

    response = await client.get(item.comments, params={"sort": "top", "cursor": cursor})

    assert response.status_code == 400
    assert (await client.get(item.comments, params={"sort": "best"})).status_code == 422


async def test_a_page_of_comments_takes_the_same_few_statements_however_many_authors(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    count_statements: StatementCounter,
) -> None:
    item = await make_item(session, runtime)
    first_author = await make_account(session)
    await make_comment(session, item.content, first_author)
    await session.commit()
    count_statements.clear()
    assert len((await client.get(item.comments)).json()["items"]) == 1
    one_comment = count_statements.count

    for _ in range(15):
        author = await make_account(session, role=UserRole.USER)
        top = await make_comment(session, item.content, author)
        await make_comment(session, item.content, first_author, parent=top)
    await session.commit()
    count_statements.clear()
    page = (await client.get(item.comments)).json()["items"]

    assert len(page) == 16
    assert len({comment["author"]["username"] for comment in page}) == 16
    assert count_statements.count == one_comment, count_statements.statements
    # the item with its creator, categories and tags, then the comments with their authors
    assert count_statements.count <= 4, count_statements.statements
