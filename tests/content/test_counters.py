"""Denormalized counters stay exact through a content item's whole life: after every step,
`tags.usage_count` equals the live items carrying the tag and `creators.content_count`
the creator's published live items, both counted from the source rows."""

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import Content, Creator, Tag, content_tags
from dreamlust.models.enums import ContentStatus, UserRole
from dreamlust.runtime import Runtime
from tests.conftest import make_settings
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_creator
from tests.fixtures.serving import served

CONTENT = "/api/v1/content"


def video(title: str, tags: list[str]) -> dict[str, Any]:
    return {
        "title": title,
        "type": "VIDEO",
        "tags": tags,
        "media_url": f"https://cdn.example.com/v/{title}.mp4",
        "duration": 30,
    }


async def assert_counters_exact(session: AsyncSession) -> None:
    """Every tag's and every creator's counter equals a COUNT over the source rows."""
    live = Content.deleted_at.is_(None)
    carrying = (
        select(func.count())
        .select_from(content_tags)
        .join(Content, Content.id == content_tags.c.content_id)
        .where(content_tags.c.tag_id == Tag.id, live)
        .scalar_subquery()
    )
    published = (
        select(func.count())
        .select_from(Content)
        .where(Content.creator_id == Creator.id, Content.status == ContentStatus.PUBLISHED, live)
        .scalar_subquery()
    )
    tags = (await session.execute(select(Tag.name, Tag.usage_count, carrying))).all()
    creators = (
        await session.execute(
            select(Creator.handle, Creator.content_count, published).execution_options(
                **{INCLUDE_DELETED: True}
            )
        )
    ).all()
    await session.commit()
    assert tags, "no tags to check"
    assert [(name, stored) for name, stored, _ in tags] == [
        (name, counted) for name, _, counted in tags
    ]
    assert [(handle, stored) for handle, stored, _ in creators] == [
        (handle, counted) for handle, _, counted in creators
    ]


async def usage(session: AsyncSession) -> dict[str, int]:
    counts = dict((await session.execute(select(Tag.name, Tag.usage_count))).all())
    await session.commit()
    return counts


async def content_count(session: AsyncSession, creator: Creator) -> int:
    count = await session.scalar(select(Creator.content_count).where(Creator.id == creator.id))
    await session.commit()
    return int(count or 0)


@pytest.fixture
async def review_client(database_url: str, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The API of a deployment where staff review content before it is published."""
    settings = make_settings(
        database_url, mail_dir=runtime.settings.mail_dir, content_review_required=True
    )
    async with served(create_app(settings, runtime=replace(runtime, settings=settings))) as client:
        yield client


async def creator_headers(
    session: AsyncSession, runtime: Runtime
) -> tuple[Creator, dict[str, str]]:
    user = await make_account(session, role=UserRole.CREATOR, is_creator=True)
    creator = await make_creator(session, user=user)
    await session.commit()
    return creator, headers_for(runtime, user)


async def test_counters_follow_create_edit_publish_delete_and_restore(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, headers = await creator_headers(session, runtime)
    other, other_headers = await creator_headers(session, runtime)
    staff = headers_for(runtime, await make_account(session, role=UserRole.MODERATOR))

    async def step(response: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, response.text
        await assert_counters_exact(session)
        body: dict[str, Any] = response.json() if response.content else {}
        return body

    first = await step(
        await client.post(CONTENT, json=video("first", ["Sunset", "bay area"]), headers=headers),
        201,
    )
    second = await step(
        await client.post(CONTENT, json=video("second", ["sunset", "Night"]), headers=headers),
        201,
    )
    theirs = await step(
        await client.post(CONTENT, json=video("theirs", ["night"]), headers=other_headers), 201
    )
    assert await usage(session) == {"sunset": 2, "bay-area": 1, "night": 2}
    assert await content_count(session, creator) == 0

    first_path, second_path = f"{CONTENT}/{first['id']}", f"{CONTENT}/{second['id']}"
    await step(
        await client.patch(
            first_path,
            json={"tags": ["night", "Bay Area", "dawn"], "version": first["version"]},
            headers=headers,
        )
    )
    assert await usage(session) == {"sunset": 1, "bay-area": 1, "night": 3, "dawn": 1}

    await step(await client.post(f"{first_path}/publish", headers=headers))
    await step(await client.post(f"{second_path}/publish", headers=headers))
    await step(await client.post(f"{CONTENT}/{theirs['id']}/publish", headers=other_headers))
    assert await content_count(session, creator) == 2
    assert await content_count(session, other) == 1

    published = (await client.get(first_path)).json()
    await step(
        await client.patch(
            first_path,
            json={"tags": ["dawn"], "title": "First, retagged"},
            headers={**headers, "If-Match": f'"{published["version"]}"'},
        )
    )
    assert await usage(session) == {"sunset": 1, "bay-area": 0, "night": 2, "dawn": 1}
    untouched = (await client.get(first_path)).json()
    await step(
        await client.patch(
            first_path,
            json={"title": "Same tags", "version": untouched["version"]},
            headers=headers,
        )
    )

    await step(await client.delete(second_path, headers=headers), 204)
    assert await usage(session) == {"sunset": 0, "bay-area": 0, "night": 1, "dawn": 1}
    assert await content_count(session, creator) == 1
    await step(await client.delete(second_path, headers=headers), 404)
    await step(await client.post(f"{second_path}/restore", headers=headers))
    await step(await client.post(f"{second_path}/restore", headers=headers), 409)
    assert await usage(session) == {"sunset": 1, "bay-area": 0, "night": 2, "dawn": 1}
    assert await content_count(session, creator) == 2

    await step(await client.delete(first_path, headers=staff), 204)
    await step(await client.post(f"{first_path}/restore", headers=staff))
    await step(await client.delete(f"{CONTENT}/{theirs['id']}", headers=other_headers), 204)
    assert await content_count(session, other) == 0
    assert await content_count(session, creator) == 2


async def test_a_draft_deleted_and_restored_never_counts_as_published(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, headers = await creator_headers(session, runtime)
    draft = (await client.post(CONTENT, json=video("draft", ["draft"]), headers=headers)).json()
    path = f"{CONTENT}/{draft['id']}"

    for method, suffix, status in (
        ("DELETE", "", 204),
        ("POST", "/restore", 200),
        ("POST", "/publish", 200),
        ("DELETE", "", 204),
        ("POST", "/restore", 200),
    ):
        response = await client.request(method, path + suffix, headers=headers)
        assert response.status_code == status, response.text
        await assert_counters_exact(session)
    assert await content_count(session, creator) == 1
    assert await usage(session) == {"draft": 1}


async def test_counters_follow_review_approve_and_reject(
    review_client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    client = review_client
    creator, headers = await creator_headers(session, runtime)
    staff = headers_for(runtime, await make_account(session, role=UserRole.MODERATOR))

    async def create(title: str, tags: list[str]) -> str:
        response = await client.post(CONTENT, json=video(title, tags), headers=headers)
        assert response.status_code == 201, response.text
        await assert_counters_exact(session)
        return f"{CONTENT}/{response.json()['id']}"

    async def act(path: str, expected_status: str, **kwargs: Any) -> None:
        response = await client.post(path, **kwargs)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == expected_status
        await assert_counters_exact(session)

    approved = await create("approved", ["review", "kept"])
    await act(f"{approved}/publish", "PENDING_REVIEW", headers=headers)
    assert await content_count(session, creator) == 0
    await act(f"{approved}/review", "PUBLISHED", json={"decision": "approve"}, headers=staff)
    assert await content_count(session, creator) == 1

    rejected = await create("rejected", ["review"])
    await act(f"{rejected}/publish", "PENDING_REVIEW", headers=headers)
    await act(
        f"{rejected}/review",
        "REJECTED",
        json={"decision": "reject", "reason": "Off topic."},
        headers=staff,
    )
    assert await content_count(session, creator) == 1
    assert await usage(session) == {"review": 2, "kept": 1}
    deleted = await client.delete(rejected, headers=headers)
    assert deleted.status_code == 204, deleted.text
    await assert_counters_exact(session)
    assert await usage(session) == {"review": 1, "kept": 1}
    await act(f"{rejected}/restore", "REJECTED", headers=headers)

    pending = await create("pending", ["later"])
    await act(f"{pending}/publish", "PENDING_REVIEW", headers=headers)
    deleted = await client.delete(pending, headers=headers)
    assert deleted.status_code == 204, deleted.text
    await assert_counters_exact(session)
    await act(f"{pending}/restore", "PENDING_REVIEW", headers=headers)
    await act(f"{pending}/review", "PUBLISHED", json={"decision": "approve"}, headers=staff)
    assert await content_count(session, creator) == 2

    again = await client.post(f"{approved}/review", json={"decision": "reject"}, headers=staff)
    assert again.status_code == 409
    await assert_counters_exact(session)
    assert await usage(session) == {"review": 2, "kept": 1, "later": 1}
