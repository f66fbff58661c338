"""Keyset pagination: every row exactly once, in order; forged cursors are refused."""

import base64
import math
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Float, cast, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import API_PREFIX, Settings
from dreamlust.content.repository import LATEST, TRENDING, ContentRepository
from dreamlust.content.trending import Window
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep
from dreamlust.errors import InvalidCursor, install_error_handlers
from dreamlust.kit.pagination import CursorCodec, Ordering, PageRequest, Paginator, SortKey
from dreamlust.models import Content
from dreamlust.request_session import api_router
from dreamlust.runtime import Runtime
from tests.fixtures.factories import make_content, make_creator

DAY_TRENDING = TRENDING[Window.DAY]
PINNED_THEN_OLDEST = Ordering(
    scope="test:mixed",
    keys=(
        SortKey(Content.is_premium, descending=True),
        SortKey(Content.like_count, descending=False),
        SortKey(Content.id, descending=True),
    ),
)


async def _fill(session: AsyncSession, rows: int) -> None:
    creator = await make_creator(session)
    for index in range(rows):
        await make_content(
            session,
            creator,
            trending_24h=float(index % 3),
            like_count=index % 4,
            is_premium=index % 5 == 0,
        )
    await session.commit()


async def _walk(session: AsyncSession, ordering: Ordering, limit: int) -> tuple[list[Content], int]:
    repository = ContentRepository(session)
    paginator = Paginator(CursorCodec(b"secret"))
    seen: list[Content] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await repository.page(
            select(Content), ordering, PageRequest(limit=limit, cursor=cursor), paginator
        )
        seen.extend(page.items)
        pages += 1
        if page.next_cursor is None:
            return seen, pages
        cursor = page.next_cursor


def _sort_key(ordering: Ordering, row: Content) -> tuple[Any, ...]:
    values: list[Any] = []
    for key, value in zip(ordering.keys, ordering.values_of(row), strict=True):
        comparable = value.int if hasattr(value, "int") else value
        values.append(-comparable if key.descending else comparable)
    return tuple(values)


@pytest.mark.parametrize("limit", [1, 7, 20, 100])
@pytest.mark.parametrize("ordering", [DAY_TRENDING, PINNED_THEN_OLDEST], ids=["uniform", "mixed"])
async def test_walking_every_page_returns_each_row_once_in_order(
    session: AsyncSession, ordering: Ordering, limit: int
) -> None:
    await _fill(session, 45)
    seen, pages = await _walk(session, ordering, limit)

    assert len(seen) == 45
    assert len({row.id for row in seen}) == 45
    assert seen == sorted(seen, key=lambda row: _sort_key(ordering, row))
    assert pages == math.ceil(45 / limit)  # no empty trailing page


# A computed sort key (a score, a search rank) is read back from the rows, which carry
# every sort key under its name: the label, and the id beside the entity.
SCORE = (cast(Content.like_count, Float) / 3.0).label("score")
BY_SCORE = Ordering(scope="test:score", keys=(SortKey(SCORE), SortKey(Content.id)))


@pytest.mark.parametrize("limit", [1, 7, 100])
async def test_rows_ordered_by_a_computed_column_are_walked_each_once_in_order(
    session: AsyncSession, limit: int
) -> None:
    await _fill(session, 45)
    repository = ContentRepository(session)
    paginator = Paginator(CursorCodec(b"secret"))
    stmt = select(Content, SCORE, Content.id)
    seen: list[tuple[float, Content]] = []
    cursor: str | None = None
    while True:
        request = PageRequest(limit=limit, cursor=cursor)
        page = await repository.page_rows(stmt, BY_SCORE, request, paginator)
        seen += page.map(lambda row: (row.score, row.Content)).items
        cursor = page.next_cursor
        if cursor is None:
            break

    assert len({content.id for _score, content in seen}) == len(seen) == 45
    keys = [(score, content.id) for score, content in seen]
    assert keys == sorted(keys, reverse=True)


async def test_a_list_that_fits_one_page_has_no_next_cursor(session: AsyncSession) -> None:
    await _fill(session, 3)
    seen, pages = await _walk(session, LATEST, 20)
    assert (len(seen), pages) == (3, 1)


def _tamper(cursor: str) -> str:
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[-2] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_forged_malformed_and_foreign_cursors_are_refused() -> None:
    codec = CursorCodec(b"secret")
    good = codec.encode(DAY_TRENDING, [1.5, "0195f0d6-5d1b-7000-8000-000000000000"])
    assert codec.decode(DAY_TRENDING, good)[0] == 1.5

    for bad in (_tamper(good), "not a cursor!", "", "AAAA", good[:-3]):
        with pytest.raises(InvalidCursor):
            codec.decode(DAY_TRENDING, bad)
    with pytest.raises(InvalidCursor):
        codec.decode(LATEST, good)  # a cursor of another ordering
    with pytest.raises(InvalidCursor):
        CursorCodec(b"other secret").decode(DAY_TRENDING, good)


def test_a_signed_cursor_with_values_of_the_wrong_type_is_refused() -> None:
    codec = CursorCodec(b"secret")
    forged = codec.encode(DAY_TRENDING, ["not-a-number", "not-a-uuid"])
    with pytest.raises(InvalidCursor):
        codec.decode(DAY_TRENDING, forged)


@pytest.fixture
async def list_client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A small app with one paginated list, to see cursors end to end over HTTP."""
    app = FastAPI()
    install_error_handlers(app)
    app.state.runtime = runtime

    router = api_router()

    @router.get("/items")
    async def items(
        session: DbSession, page: PageParams, paginator: PaginatorDep
    ) -> dict[str, Any]:
        repository = ContentRepository(session)
        result = await repository.page(select(Content), LATEST, page, paginator)
        return {"items": [str(row.id) for row in result.items], "next_cursor": result.next_cursor}

    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_cursors_over_http(session: AsyncSession, list_client: httpx.AsyncClient) -> None:
    await _fill(session, 5)
    first = (await list_client.get(f"{API_PREFIX}/items", params={"limit": 2})).json()
    second = (
        await list_client.get(
            f"{API_PREFIX}/items", params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert len(first["items"]) == len(second["items"]) == 2
    assert not set(first["items"]) & set(second["items"])

    response = await list_client.get(
        f"{API_PREFIX}/items", params={"cursor": _tamper(first["next_cursor"])}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 400

    for params in ({"limit": 0}, {"limit": 101}, {"limit": "many"}):
        response = await list_client.get(f"{API_PREFIX}/items", params=params)
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["query", "limit"]
