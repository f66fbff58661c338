"""Tags: one canonical spelling, created on first use, listed by prefix or by popularity."""

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.db import Database
from dreamlust.errors import InvalidInput
from dreamlust.kit.pagination import PageRequest
from dreamlust.models import Tag
from dreamlust.runtime import Runtime
from dreamlust.taxonomy.repository import TAGS_BY_NAME, TAGS_BY_POPULARITY, TagRepository
from dreamlust.taxonomy.service import MAX_TAGS_PER_CONTENT, normalize_tags
from dreamlust.taxonomy.slugs import normalize_tag
from tests.fixtures.factories import make_tag
from tests.fixtures.plans import query_plan

TAGS = "/api/v1/tags"
# The last letter of CJK Extension G, the highest character a tag may hold under Unicode 14
# (Python 3.11): the range of a prefix ending in it is bounded beyond the BMP.
HIGHEST = "\U0003134a"


async def walk(client: httpx.AsyncClient, **params: Any) -> tuple[list[str], list[int]]:
    """Follow the list's cursors to the end: the names in order and the size of each page."""
    names: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        response = await client.get(TAGS, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        names.extend(item["name"] for item in page["items"])
        sizes.append(len(page["items"]))
        cursor = page["next_cursor"]
        if cursor is None:
            return names, sizes


async def rows_per_name(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Tag.name, func.count()).group_by(Tag.name))
    counts = dict(rows.all())
    await session.commit()
    return counts


# Normalization


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  Night  Sky ", "night-sky"),
        ("night\tsky", "night-sky"),
        ("NIGHT", "night"),
        ("ÉTÉ", "été"),
        ("Straße", "strasse"),
        ("\uff2e\uff49\uff47\uff48\uff54", "night"),
        ("night_sky", "night_sky"),
        ("night-sky", "night-sky"),
        ("x" * 50, "x" * 50),
        ("  " + "x" * 50 + "  ", "x" * 50),
        ("a" + HIGHEST, "a" + HIGHEST),
    ],
)
def test_a_tag_has_one_canonical_spelling(raw: str, normalized: str) -> None:
    assert normalize_tag(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "x" * 51, "ß" * 26, "a/b", "a#b", "a.b", "a,b", "a%b", "a\x00b", "<b>"],
)
def test_a_malformed_tag_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="a tag has 1 to 50"):
        normalize_tag(raw)


def test_tags_are_deduplicated_after_normalization_in_the_order_given() -> None:
    assert normalize_tags(["Night Sky", "moon", "night-sky", " NIGHT  SKY ", "MOON"]) == [
        "night-sky",
        "moon",
    ]


def test_at_most_twenty_distinct_tags_are_taken() -> None:
    twenty = [f"tag{number}" for number in range(MAX_TAGS_PER_CONTENT)]
    assert MAX_TAGS_PER_CONTENT == 20
    assert normalize_tags(twenty) == twenty
    assert normalize_tags([*twenty, *(name.upper() for name in twenty)]) == twenty
    with pytest.raises(InvalidInput, match="At most 20 tags"):
        normalize_tags([*twenty, "one-more"])


def test_a_malformed_tag_among_others_is_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        normalize_tags(["night", "a/b"])


# Created on first use


async def test_ensure_creates_tags_on_first_use_and_then_finds_them(
    session: AsyncSession,
) -> None:
    repository = TagRepository(session)

    first = await repository.ensure(["night", "moon"])
    await session.commit()
    again = await repository.ensure(["moon", "night", "moon"])
    await session.commit()

    assert sorted(tag.name for tag in first) == ["moon", "night"]
    assert {tag.name: tag.id for tag in again} == {tag.name: tag.id for tag in first}
    assert all(tag.slug == tag.name and tag.usage_count == 0 for tag in first)
    assert await rows_per_name(session) == {"moon": 1, "night": 1}
    assert await repository.ensure([]) == []


async def test_ensure_keeps_existing_tags_as_they_are(session: AsyncSession) -> None:
    existing = await make_tag(session, name="moon", usage_count=7)
    await session.commit()

    tags = {tag.name: tag for tag in await TagRepository(session).ensure(["moon", "sun"])}
    await session.commit()

    assert set(tags) == {"moon", "sun"}
    assert tags["moon"].id == existing.id
    assert tags["moon"].usage_count == 7
    assert await rows_per_name(session) == {"moon": 1, "sun": 1}


async def test_concurrent_first_uses_of_the_same_tags_both_succeed(
    database: Database, session: AsyncSession
) -> None:
    names = ["comet", "meteor", "nebula"]
    first_inserted = asyncio.Event()

    async def first() -> dict[str, uuid.UUID]:
        async with database.transaction() as writer:
            tags = await TagRepository(writer).ensure(names)
            first_inserted.set()
            # Hold the new rows uncommitted while the second writer tries to insert them.
            await asyncio.sleep(0.2)
            return {tag.name: tag.id for tag in tags}

    async def second() -> dict[str, uuid.UUID]:
        await first_inserted.wait()
        async with database.transaction() as writer:
            tags = await TagRepository(writer).ensure(list(reversed(names)))
            return {tag.name: tag.id for tag in tags}

    ids_of_first, ids_of_second = await asyncio.gather(first(), second())

    assert ids_of_first == ids_of_second
    assert set(ids_of_first) == set(names)
    assert await rows_per_name(session) == dict.fromkeys(names, 1)


async def test_many_concurrent_first_uses_leave_one_row_per_name(
    database: Database, session: AsyncSession
) -> None:
    names = ["aurora", "eclipse", "zenith"]

    async def ensure(order: list[str]) -> dict[str, uuid.UUID]:
        async with database.transaction() as writer:
            return {tag.name: tag.id for tag in await TagRepository(writer).ensure(order)}

    results = await asyncio.gather(
        *(ensure(names if number % 2 else list(reversed(names))) for number in range(8))
    )

    assert all(result == results[0] for result in results)
    assert await rows_per_name(session) == dict.fromkeys(names, 1)


# Listing by prefix

NAMES = [
    "_under",
    "a",
    "a_b",
    "ab",
    "ab-c",
    "abc",
    "abz",
    "ab" + HIGHEST,
    "ac",
    "az",
    "azz",
    "az" + HIGHEST,
    "aé",
    "a" + HIGHEST,
    "b",
    "ba",
    "nigh",
    "night",
    "night-sky",
    "nightlife",
    "z",
    "zz",
    "été",
]


@pytest.fixture
async def named_tags(session: AsyncSession) -> list[str]:
    for name in reversed(NAMES):
        await make_tag(session, name=name)
    await session.commit()
    return NAMES


async def test_the_list_is_ordered_by_name(
    client: httpx.AsyncClient, named_tags: list[str]
) -> None:
    names, sizes = await walk(client, limit=5)

    assert names == sorted(named_tags) == named_tags
    assert sizes == [5, 5, 5, 5, 3]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        (
            "a",
            [
                "a",
                "a_b",
                "ab",
                "ab-c",
                "abc",
                "abz",
                "ab" + HIGHEST,
                "ac",
                "az",
                "azz",
                "az" + HIGHEST,
                "aé",
                "a" + HIGHEST,
            ],
        ),
        ("ab", ["ab", "ab-c", "abc", "abz", "ab" + HIGHEST]),
        ("abc", ["abc"]),
        ("az", ["az", "azz", "az" + HIGHEST]),
        ("z", ["z", "zz"]),
        ("a" + HIGHEST, ["a" + HIGHEST]),
        ("ab" + HIGHEST, ["ab" + HIGHEST]),
        ("b", ["b", "ba"]),
        ("_", ["_under"]),
        ("a_", ["a_b"]),
        ("AB C", ["ab-c"]),
        ("  Night ", ["night", "night-sky", "nightlife"]),
        ("NIGHT S", ["night-sky"]),
        ("nigh", ["nigh", "night", "night-sky", "nightlife"]),
        ("ÉT", ["été"]),
        ("é", ["été"]),
        ("q", []),
        ("zzz", []),
        ("x" * 50, []),
    ],
)
async def test_a_prefix_lists_exactly_the_tags_starting_with_it(
    client: httpx.AsyncClient, named_tags: list[str], prefix: str, expected: list[str]
) -> None:
    response = await client.get(TAGS, params={"prefix": prefix, "limit": 100})

    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    assert [item["name"] for item in response.json()["items"]] == expected
    normalized = normalize_tag(prefix)
    assert expected == [name for name in named_tags if name.startswith(normalized)]


async def test_the_pages_of_a_prefix_list_hold_each_tag_once(
    client: httpx.AsyncClient, named_tags: list[str]
) -> None:
    names, sizes = await walk(client, prefix="a", limit=2)

    assert names == [name for name in named_tags if name.startswith("a")]
    assert sizes == [2, 2, 2, 2, 2, 2, 1]


@pytest.mark.parametrize(
    "params",
    [
        {"prefix": "a/b"},
        {"prefix": "a#"},
        {"prefix": "a\x00"},
        {"prefix": "   "},
        {"prefix": ""},
        {"prefix": "x" * 51},
        {"prefix": "ß" * 26},
        {"sort": "random"},
        {"limit": 0},
        {"limit": 101},
    ],
    ids=[
        "slash",
        "hash",
        "NUL",
        "blank",
        "empty",
        "51 chars",
        "too long when folded",
        "sort",
        "limit 0",
        "limit 101",
    ],
)
async def test_invalid_list_parameters_are_422(
    client: httpx.AsyncClient, named_tags: list[str], params: dict[str, Any]
) -> None:
    response = await client.get(TAGS, params=params)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 422


async def test_a_forged_cursor_is_400(client: httpx.AsyncClient, named_tags: list[str]) -> None:
    response = await client.get(TAGS, params={"cursor": "bm90LWEtY3Vyc29y"})

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


# Listing by popularity


async def test_popular_tags_come_first_and_ties_go_to_the_newest(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    counts = {"alpha": 5, "beta": 9, "gamma": 5, "delta": 0, "epsilon": 9, "zeta": 1, "eta": 5}
    tags = [await make_tag(session, name=name) for name in counts]
    for name, count in counts.items():
        await session.execute(update(Tag).where(Tag.name == name).values(usage_count=count))
    await session.commit()
    expected = [
        tag.name for tag in sorted(tags, key=lambda tag: (counts[tag.name], tag.id), reverse=True)
    ]

    names, sizes = await walk(client, sort="popular", limit=2)

    assert names == expected
    assert sizes == [2, 2, 2, 1]
    response = await client.get(TAGS, params={"sort": "popular"})
    assert [item["usage_count"] for item in response.json()["items"]] == sorted(
        counts.values(), reverse=True
    )
    by_name, _ = await walk(client, limit=3)
    assert by_name == sorted(counts)


async def test_a_prefix_narrows_the_popular_list(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    for name, count in {"night": 2, "nightlife": 8, "moon": 9, "nights": 5}.items():
        await make_tag(session, name=name, usage_count=count)
    await session.commit()

    names, sizes = await walk(client, sort="popular", prefix="Night", limit=2)

    assert names == ["nightlife", "nights", "night"]
    assert sizes == [2, 1]


# The query plans


async def test_a_prefix_is_a_range_of_the_name_index(
    session: AsyncSession, runtime: Runtime, backend: str
) -> None:
    repository = TagRepository(session)
    paginator = runtime.paginator
    pages = [PageRequest(), PageRequest(cursor=paginator.codec.encode(TAGS_BY_NAME, ["abc"]))]

    for page in pages:
        for prefix in ("ab", None):
            stmt = paginator.apply(repository.listing(prefix), TAGS_BY_NAME, page)
            plan = await query_plan(session, stmt)
            if backend == "postgresql":
                assert re.search(r"Index (Only )?Scan using uq_tags_name on tags", plan), plan
                assert "Sort" not in plan, plan
                if prefix:
                    assert "'ab'::text" in plan, plan
                    assert "'ac'::text" in plan, plan
            else:
                assert re.search(r"(SCAN|SEARCH) tags USING (COVERING )?INDEX \w+", plan), plan
                assert "TEMP B-TREE" not in plan, plan
                if prefix:
                    assert "(name>? AND name<?)" in plan, plan


async def test_the_popular_list_is_read_from_the_usage_count_index(
    session: AsyncSession, runtime: Runtime, backend: str
) -> None:
    repository = TagRepository(session)
    paginator = runtime.paginator
    after = paginator.codec.encode(TAGS_BY_POPULARITY, [3, uuid.uuid4()])

    for page in (PageRequest(), PageRequest(cursor=after)):
        stmt = paginator.apply(repository.listing(None), TAGS_BY_POPULARITY, page)
        plan = await query_plan(session, stmt)
        if backend == "postgresql":
            used = r"Index (Only )?Scan Backward using ix_tags_usage_count_id on tags"
            assert re.search(used, plan), plan
            assert "Sort" not in plan, plan
        else:
            used = r"(SCAN|SEARCH) tags USING (COVERING )?INDEX ix_tags_usage_count_id\b"
            assert re.search(used, plan), plan
            assert "TEMP B-TREE" not in plan, plan


async def test_tag_names_compare_byte_wise_whatever_the_database_locale(
    session: AsyncSession, backend: str
) -> None:
    if backend == "postgresql":
        collation = await session.scalar(
            text(
                "SELECT collation_name FROM information_schema.columns"
                " WHERE table_name = 'tags' AND column_name = 'name'"
            )
        )
        assert collation == "C"
    else:
        schema = await session.scalar(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tags'")
        )
        assert schema is not None
        assert "COLLATE" not in schema.upper(), "SQLite's default collation is byte-wise"
    await session.rollback()
