"""A like toggle in as few statements as exactness allows."""

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import Content, Creator, Like
from dreamlust.models.enums import ContentStatus
from dreamlust.runtime import Runtime
from tests.conftest import StatementCounter
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content, make_creator


async def _counts(session: AsyncSession, content: Content) -> tuple[int, int, int]:
    """(like rows, content.like_count, creator.total_likes), read afresh."""
    rows = await session.scalar(select(func.count()).where(Like.content_id == content.id))
    count = await session.scalar(select(Content.like_count).where(Content.id == content.id))
    total = await session.scalar(
        select(Creator.total_likes).where(Creator.id == content.creator_id)
    )
    await session.commit()
    return int(rows or 0), int(count or 0), int(total or 0)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_a_toggle_is_the_account_read_and_one_statement_on_its_own_on_postgresql(
    backend: str,
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    count_statements: StatementCounter,
    method: str,
) -> None:
    content = await make_content(session, await make_creator(session))
    user = await make_account(session)
    path, headers = f"/api/v1/content/{content.id}/like", headers_for(runtime, user)
    if method == "DELETE":
        assert (await client.put(path, headers=headers)).status_code == 200
    count_statements.clear()

    response = await client.request(method, path, headers=headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"liked": method == "PUT", "like_count": int(method == "PUT")}
    # SQLite has no data-modifying CTEs: the item, the like, and each counter apart.
    assert count_statements.count == (2 if backend == "postgresql" else 5)
    # On PostgreSQL in autocommit: the hot counters are let go as the statement ends.
    assert count_statements.in_transaction == ([False, False] if backend == "postgresql" else [])
    assert await _counts(session, content) == (int(method == "PUT"),) * 3


async def test_a_repeated_toggle_changes_nothing_and_answers_the_count(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    content = await make_content(session, await make_creator(session))
    first, second = await make_account(session), await make_account(session)
    path = f"/api/v1/content/{content.id}/like"

    assert (await client.put(path, headers=headers_for(runtime, first))).status_code == 200
    liked_again = await client.put(path, headers=headers_for(runtime, first))
    not_liked = await client.delete(path, headers=headers_for(runtime, second))

    assert liked_again.json() == {"liked": True, "like_count": 1}
    assert not_liked.json() == {"liked": False, "like_count": 1}
    assert await _counts(session, content) == (1, 1, 1)


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_content_the_user_may_not_open_is_not_found_and_not_counted(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, method: str
) -> None:
    draft = await make_content(session, await make_creator(session), status=ContentStatus.DRAFT)
    user = await make_account(session)

    response = await client.request(
        method, f"/api/v1/content/{draft.id}/like", headers=headers_for(runtime, user)
    )

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert await _counts(session, draft) == (0, 0, 0)
