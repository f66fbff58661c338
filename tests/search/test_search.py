"""Search: ranked full-text matches, by prefix, that respect visibility and never fail."""

import re
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.content.visibility import Viewer
from dreamlust.db import Database
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.kit.pagination import CursorCodec, PageRequest, Paginator
from dreamlust.models import Content, Creator
from dreamlust.models.enums import ContentStatus, ContentType, CreatorStatus, UserRole
from dreamlust.runtime import Runtime
from dreamlust.search import index as search_index
from dreamlust.search.query import CANDIDATES, RECENT_WINDOW, SearchQuery, hits
from dreamlust.search.repository import SearchRepository
from dreamlust.seeding import seed_database
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content, make_creator, make_tag
from tests.fixtures.plans import query_plan
from tests.fixtures.search_plans import analyzed_plan, plan_nodes, rows_produced

SEARCH = "/api/v1/search"


async def _indexed(session: AsyncSession, creator: Creator, **fields: Any) -> Content:
    """A content item, indexed for search as the content service would index it."""
    content = await make_content(session, creator, **fields)
    await search_index.reindex(session, [content.id])
    return content


async def _search(
    client: httpx.AsyncClient, q: str, headers: dict[str, str] | None = None, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(SEARCH, params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def _titles(client: httpx.AsyncClient, q: str, **params: Any) -> list[str]:
    return [item["title"] for item in await _search(client, q, **params)]


async def test_a_title_match_outranks_tag_and_description_matches(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    creator = await make_creator(session, display_name="Ann", handle="ann")
    other = await make_creator(session, display_name="Lighthouse Keeper", handle="keeper")
    tag = await make_tag(session, name="lighthouse")
    await _indexed(session, creator, title="Morning walk", description="Past the old lighthouse.")
    await _indexed(session, creator, title="Evening", tags=[tag])
    await _indexed(session, creator, title="Lighthouse at dawn")
    await _indexed(session, other, title="Harbour")
    await _indexed(session, creator, title="Unrelated", description="Nothing to see.")
    await session.commit()

    titles = await _titles(client, "lighthouse")
    assert set(titles) == {"Lighthouse at dawn", "Evening", "Morning walk", "Harbour"}
    assert titles.index("Lighthouse at dawn") < titles.index("Evening")
    assert titles.index("Evening") < titles.index("Morning walk")
    assert await _titles(client, "keeper") == ["Harbour"], "creator names are searchable"


async def test_words_match_as_prefixes_and_all_must_match(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    creator = await make_creator(session)
    await _indexed(session, creator, title="Sunset over the bay", type=ContentType.VIDEO)
    await _indexed(session, creator, title="Sunrise in the hills", type=ContentType.PHOTO)
    await session.commit()

    assert set(await _titles(client, "sun")) == {"Sunset over the bay", "Sunrise in the hills"}
    assert await _titles(client, "SUNS") == ["Sunset over the bay"]
    assert await _titles(client, "bay sun") == ["Sunset over the bay"]
    assert await _titles(client, "sun", type="PHOTO") == ["Sunrise in the hills"]
    assert await _titles(client, "sunset hills") == []
    assert await _titles(client, "moon") == []


async def test_only_what_the_viewer_may_discover_is_found(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator = await make_creator(session)
    suspended = await make_creator(session, status=CreatorStatus.SUSPENDED)
    await _indexed(session, creator, title="Aurora public")
    await _indexed(session, creator, title="Aurora draft", status=ContentStatus.DRAFT)
    await _indexed(session, creator, title="Aurora private", is_public=False)
    await _indexed(session, creator, title="Aurora nsfw", is_nsfw=True)
    await _indexed(session, creator, title="Aurora adults", age_restricted=True)
    await _indexed(
        session, creator, title="Aurora later", published_at=utcnow() + timedelta(days=1)
    )
    await _indexed(session, creator, title="Aurora deleted", deleted_at=utcnow())
    await _indexed(session, suspended, title="Aurora suspended")
    adult = await make_account(
        session, birth_date=date(1990, 1, 1), preferences={"nsfw_policy": "blur"}
    )
    minor = await make_account(
        session,
        birth_date=utcnow().date() - timedelta(days=365 * 15),
        preferences={"nsfw_policy": "show"},
    )
    await session.commit()

    assert await _titles(client, "aurora") == ["Aurora public"]
    as_minor = await _search(client, "aurora", headers_for(runtime, minor))
    assert [item["title"] for item in as_minor] == ["Aurora public"]
    as_adult = {
        item["title"]: item for item in await _search(client, "aurora", headers_for(runtime, adult))
    }
    assert set(as_adult) == {"Aurora public", "Aurora nsfw", "Aurora adults"}
    assert as_adult["Aurora nsfw"]["is_blurred"] is True


async def test_walking_the_pages_of_many_results_returns_each_once_best_first(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    creator = await make_creator(session)
    for index in range(45):
        if index % 3:
            await _indexed(session, creator, title=f"Clip {index}", description="by the river")
        else:
            await _indexed(session, creator, title=f"River {index}")
    await session.commit()

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"q": "river", "limit": 7, **({"cursor": cursor} if cursor else {})}
        response = await client.get(SEARCH, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [item["title"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 45
    assert pages == 7
    title_matches = [title for title in seen if title.startswith("River")]
    assert seen[: len(title_matches)] == title_matches, "title matches come first"


async def test_a_cursor_is_valid_only_for_its_own_query(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    creator = await make_creator(session)
    for index in range(3):
        await _indexed(session, creator, title=f"Lake river {index}")
    await session.commit()
    first = await client.get(SEARCH, params={"q": "river", "limit": 1})
    cursor = first.json()["next_cursor"]
    assert cursor is not None

    same = await client.get(SEARCH, params={"q": "RIVER!", "limit": 1, "cursor": cursor})
    assert same.status_code == 200, "the same words, typed differently, are the same query"
    other = await client.get(SEARCH, params={"q": "lake", "limit": 1, "cursor": cursor})
    assert other.status_code == 400
    assert other.headers["content-type"] == "application/problem+json"
    forged = await client.get(SEARCH, params={"q": "river", "cursor": cursor[:-2] + "xy"})
    assert forged.status_code == 400


# Operators of either query language are plain words here: the item says "and not near, or".
FINDS_SUNSET = [
    "SuNsEt",
    '"sunset"',
    "'sun'",
    "((sun",
    "sun)",
    "sun:*",
    "sun* & !bay | <-> bay",
    "sun AND bay",
    "sun NOT bay",
    "NEAR(sun bay)",
    'sun" OR "bay',
    "AND OR NOT NEAR * : ( ) \" '",
    "%sun_",
    "sun\\",
    "🌅 sun 🌅",
    "sunset " + "bay " * 240,
    "sun" + " " * 994 + "bay",
]
FINDS_NOTHING = [
    "sun OR moon",
    "sun' OR 'x'='x' --",
    "sun; DROP TABLE content",
    "a" * 1000,
    "été e\u0301te\u0301 हिन्दी 東京 ١٢٣",
    "x² ¾ ⅷ",
    "sunset " + " ".join(f"w{index}" for index in range(40)),
]
REFUSED = [
    "",
    "   ",
    "!!! ??? ... ---",
    "* : ( ) \" ' & | ! <->",
    "🌅🌅🌅",
    "\u0301\u0301",
    "sun\x00set",
    "sun\nset",
    "sun\tbay",
]


async def _sunset(session: AsyncSession) -> None:
    creator = await make_creator(session)
    await _indexed(
        session, creator, title="Sunset over the bay", description="And not near, or far."
    )
    await session.commit()


@pytest.mark.parametrize("q", FINDS_SUNSET)
async def test_hostile_input_is_searched_for_the_words_in_it(
    client: httpx.AsyncClient, session: AsyncSession, q: str
) -> None:
    await _sunset(session)
    assert len(q) <= 1000
    assert await _titles(client, q) == ["Sunset over the bay"]


@pytest.mark.parametrize("q", FINDS_NOTHING)
async def test_hostile_input_whose_words_do_not_all_match_finds_nothing(
    client: httpx.AsyncClient, session: AsyncSession, q: str
) -> None:
    await _sunset(session)
    assert len(q) <= 1000
    assert await _titles(client, q) == []


@pytest.mark.parametrize("q", REFUSED)
async def test_input_without_words_or_with_control_characters_is_refused(
    client: httpx.AsyncClient, q: str
) -> None:
    response = await client.get(SEARCH, params={"q": q})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_query_needs_q_of_at_most_1000_characters(client: httpx.AsyncClient) -> None:
    assert (await client.get(SEARCH)).status_code == 422
    assert (await client.get(SEARCH, params={"q": "a" * 1001})).status_code == 422
    empty = await client.get(SEARCH, params={"q": "?!"})
    assert empty.json()["detail"] == "q needs at least one letter or digit."
    assert empty.json()["errors"] == [{"loc": ["query", "q"], "msg": empty.json()["detail"]}]


async def test_the_index_follows_edits_renames_deletions_and_restores(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session, role=UserRole.CREATOR, is_creator=True)
    await make_creator(session, user=user, display_name="Marta Quill", handle="mquill")
    await session.commit()
    headers = headers_for(runtime, user)
    created = await client.post(
        "/api/v1/content",
        json={
            "title": "Glacier hike",
            "type": "PHOTO",
            "description": "Crampons and blue ice.",
            "tags": ["Alps"],
            "media_url": "https://cdn.example.com/p/1.jpg",
            "width": 800,
            "height": 600,
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    path = f"/api/v1/content/{created.json()['id']}"
    assert await _titles(client, "glacier") == [], "a draft is not found"
    await client.post(f"{path}/publish", headers=headers)
    for words in ("glacier", "crampons", "alps", "marta", "mquill"):
        assert await _titles(client, words) == ["Glacier hike"], words

    edited = await client.patch(
        path,
        json={"title": "Fjord kayak", "tags": ["norway"]},
        headers={**headers, "If-Match": '"2"'},
    )
    assert edited.status_code == 200, edited.text
    assert await _titles(client, "glacier") == []
    assert await _titles(client, "alps") == []
    assert await _titles(client, "fjord norway") == ["Fjord kayak"]

    renamed = await client.patch(
        "/api/v1/creators/me",
        json={"display_name": "Marta Stone"},
        headers={**headers, "If-Match": '"1"'},
    )
    assert renamed.status_code == 200, renamed.text
    assert await _titles(client, "quill") == []
    assert await _titles(client, "marta stone") == ["Fjord kayak"]

    assert (await client.delete(path, headers=headers)).status_code == 204
    assert await _titles(client, "fjord") == []
    assert (await client.post(f"{path}/restore", headers=headers)).status_code == 200
    assert await _titles(client, "fjord") == ["Fjord kayak"]


async def _index_hits(session: AsyncSession, q: str) -> int:
    dialect = session.get_bind().dialect.name
    query = SearchQuery.parse(q)
    count = await session.scalar(
        select(func.count()).select_from(hits(dialect)), query.params(dialect)
    )
    await session.commit()
    return int(count or 0)


async def test_purging_content_removes_its_search_document(session: AsyncSession) -> None:
    creator = await make_creator(session)
    kept = await _indexed(session, creator, title="Canyon one")
    purged = await _indexed(session, creator, title="Canyon two")
    await session.commit()
    assert await _index_hits(session, "canyon") == 2

    await session.execute(delete(Content).where(Content.id == purged.id))
    await session.commit()
    assert await _index_hits(session, "canyon") == 1
    await search_index.reindex(session, [kept.id, purged.id])
    await session.commit()
    assert await _index_hits(session, "canyon") == 1


async def _published(
    session: AsyncSession, titles: Sequence[str], description: str | None = None
) -> None:
    """Published items of one creator with these titles, in this order, indexed for search."""
    creator = await make_creator(session)
    published_at = utcnow() - timedelta(hours=1)
    rows = [
        {
            "id": new_id(),
            "creator_id": creator.id,
            "title": title,
            "description": description,
            "type": ContentType.PHOTO,
            "status": ContentStatus.PUBLISHED,
            "published_at": published_at,
        }
        for title in titles
    ]
    await session.execute(insert(Content), rows)
    await search_index.reindex(session, [row["id"] for row in rows])
    await session.commit()


async def _many_matches(session: AsyncSession, count: int) -> list[Content]:
    """`count` published items matching "meadow": every other one by its title, all by
    their description; ids in creation order, the newest last."""
    titles = [f"Meadow {index}" if index % 2 else f"Clip {index}" for index in range(count)]
    await _published(session, titles, "Walking by the meadow.")
    return list((await session.scalars(select(Content).order_by(Content.id))).all())


async def _every_nth_matching(session: AsyncSession, count: int, nth: int) -> None:
    """`count` published items, one in `nth` (the newest included) titled with "heron"."""
    titles = [
        "Grey heron" if (count - 1 - index) % nth == 0 else f"Clip {index}"
        for index in range(count)
    ]
    await _published(session, titles)


@pytest.mark.postgresql_only
async def test_a_word_too_rare_among_the_newest_is_looked_for_further_back_in_order(
    session: AsyncSession,
) -> None:
    """Fewer than the candidates among the newest documents, but enough to expect them
    within the wider window: it is read in order, and the full-text index is not used."""
    nth = 30  # 167 matches among the newest RECENT_WINDOW, 234 in all
    await _every_nth_matching(session, RECENT_WINDOW + 2000, nth)
    for table in ("content", "content_search", "creators"):  # as autovacuum would
        await session.execute(text(f"ANALYZE {table}"))
    card = SearchRepository(session).statement(
        SearchQuery.parse("heron"), Viewer(), PageRequest(), Paginator(CursorCodec(b"secret"))
    )

    root = await analyzed_plan(session, card.statement, card.params)

    nodes = list(plan_nodes(root))
    looked_up = [node for node in nodes if node.get("Index Name") == "ix_content_search_document"]
    assert all(node["Actual Loops"] == 0 for node in looked_up), nodes
    read_in_order = [node for node in nodes if node.get("Scan Direction") == "Backward"]
    # Up to the 200th match from the newest, and no further.
    assert max(rows_produced(node) for node in read_in_order) == (CANDIDATES - 1) * nth + 1
    assert await _index_hits(session, "heron") == CANDIDATES


async def test_a_rare_word_is_looked_up_in_the_full_text_index(session: AsyncSession) -> None:
    postgresql = session.get_bind().dialect.name == "postgresql"
    # On PostgreSQL, many more than the newest documents a search reads in order.
    older = 10 * CANDIDATES
    await _many_matches(session, RECENT_WINDOW + older if postgresql else older)
    card = SearchRepository(session).statement(
        SearchQuery.parse("moor"), Viewer(), PageRequest(), Paginator(CursorCodec(b"secret"))
    )

    if postgresql:
        for table in ("content", "content_search", "creators"):  # as autovacuum would
            await session.execute(text(f"ANALYZE {table}"))
        root = await analyzed_plan(session, card.statement, card.params)
        nodes = list(plan_nodes(root))
        looked_up = [
            node for node in nodes if node.get("Index Name") == "ix_content_search_document"
        ]
        assert looked_up, nodes
        assert all(node["Actual Loops"] == 1 for node in looked_up), nodes
        assert max(rows_produced(node) for node in nodes) <= RECENT_WINDOW, nodes
    else:
        plan = await query_plan(session, card.statement, params=card.params)
        assert re.search(r"SCAN content_search VIRTUAL TABLE INDEX \d+:M", plan), plan


async def test_a_query_matching_more_than_the_candidates_pages_through_its_newest_matches(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    items = await _many_matches(session, CANDIDATES + 200)
    newest = items[-CANDIDATES:]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": "meadow", "limit": 100, **({"cursor": cursor} if cursor else {})}
        body = (await client.get(SEARCH, params=params)).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == CANDIDATES
    assert set(seen) == {str(item.id) for item in newest}
    by_title = {str(item.id) for item in newest if item.title.startswith("Meadow")}
    assert set(seen[: len(by_title)]) == by_title, "title matches come first"


@pytest.mark.postgresql_only
async def test_a_common_prefix_ranks_a_bounded_set_of_candidates(session: AsyncSession) -> None:
    await _many_matches(session, 10 * CANDIDATES)
    for table in ("content", "content_search", "creators"):  # as autovacuum would
        await session.execute(text(f"ANALYZE {table}"))
    assert await _index_hits(session, "mea") == CANDIDATES
    matches = await session.scalar(
        text("SELECT count(*) FROM content_search WHERE document @@ to_tsquery('simple', 'mea:*')")
    )
    assert matches == 10 * CANDIDATES
    card = SearchRepository(session).statement(
        SearchQuery.parse("mea"), Viewer(), PageRequest(), Paginator(CursorCodec(b"secret"))
    )

    root = await analyzed_plan(session, card.statement, card.params)

    nodes = list(plan_nodes(root))
    assert any(
        node["Node Type"] == "Limit" and rows_produced(node) == CANDIDATES for node in nodes
    ), nodes
    assert any("ts_rank(" in " ".join(node.get("Output", ())) for node in nodes), nodes
    largest = max(nodes, key=rows_produced)
    assert rows_produced(largest) <= CANDIDATES, f"a node sees every match: {largest}"


@pytest.mark.postgresql_only
async def test_words_expected_to_match_few_documents_are_not_looked_up_in_every_match(
    session: AsyncSession,
) -> None:
    """Without statistics of the documents the planner expects any query to match 0.5% of
    them, as it expects too few of words that go together (it multiplies their shares);
    the full-text index would then hand over every match, to be sorted by age. The newest
    documents are read in order first, and the older ones are not read at all once
    enough of those match."""
    await _many_matches(session, RECENT_WINDOW + 2 * CANDIDATES)
    for table in ("content", "creators"):  # as autovacuum would; not content_search
        await session.execute(text(f"ANALYZE {table}"))
    card = SearchRepository(session).statement(
        SearchQuery.parse("walking meadow"),
        Viewer(),
        PageRequest(),
        Paginator(CursorCodec(b"secret")),
    )

    root = await analyzed_plan(session, card.statement, card.params)

    nodes = list(plan_nodes(root))
    largest = max(nodes, key=rows_produced)
    assert rows_produced(largest) <= CANDIDATES, f"a node sees every match: {largest}"
    assert await _index_hits(session, "walking meadow") == CANDIDATES


async def test_the_demo_data_is_searchable(
    client: httpx.AsyncClient, settings: Settings, database: Database
) -> None:
    await seed_database(settings, scale=1, random_seed=7)
    [listed] = (await client.get("/api/v1/content", params={"limit": 1})).json()["items"]

    found = await _search(client, listed["title"], limit=100)

    assert listed["id"] in [item["id"] for item in found]
