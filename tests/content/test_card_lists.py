"""The lists a user keeps (the feed, likes, watch history, playlist items) are read as
cards: one statement per page, whatever the page holds, and through an index."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.repository import ContentRepository
from dreamlust.content.visibility import Viewer
from dreamlust.engagement.repository import LIKED_NEWEST_FIRST, LikeRepository
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import Ordering, PageRequest
from dreamlust.models import Content, Follow, Like, PlaylistItem, User, View
from dreamlust.playlists.repository import BY_POSITION, PlaylistItemRepository
from dreamlust.runtime import Runtime
from dreamlust.views.repository import ViewRepository, newest_watched_first
from tests.conftest import StatementCounter
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_category, make_content, make_creator, make_playlist
from tests.fixtures.plans import query_plan

ITEMS = 5


async def _kept_by(session: AsyncSession, user: User) -> tuple[uuid.UUID, list[Content]]:
    """Items from several creators, each with categories and tags, that the user follows
    the creators of, liked, watched and put in a playlist; the playlist's id."""
    category = await make_category(session)
    playlist = await make_playlist(session, user)
    items = []
    for number in range(ITEMS):
        creator = await make_creator(session)
        item = await make_content(session, creator, categories=[category])
        at = utcnow() - timedelta(minutes=number)
        session.add_all(
            [
                Follow(user_id=user.id, creator_id=creator.id),
                Like(user_id=user.id, content_id=item.id, created_at=at),
                View(content_id=item.id, user_id=user.id, viewer_hash="0" * 64, created_at=at),
                PlaylistItem(playlist_id=playlist.id, content_id=item.id, position=number),
            ]
        )
        items.append(item)
    await session.commit()
    return playlist.id, items


@pytest.mark.parametrize("path", ["feed", "likes", "history", "playlist"])
async def test_each_page_of_a_kept_list_is_one_statement(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    count_statements: StatementCounter,
    path: str,
) -> None:
    user = await make_account(session)
    playlist_id, items = await _kept_by(session, user)
    url = {
        "feed": "/api/v1/users/me/feed",
        "likes": "/api/v1/users/me/likes",
        "history": "/api/v1/users/me/history",
        "playlist": f"/api/v1/playlists/{playlist_id}/items",
    }[path]
    headers = headers_for(runtime, user)
    ids: list[str] = []
    params: dict[str, str | int] = {"limit": 2}
    while True:
        count_statements.clear()
        response = await client.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()

        cards = [
            entry if path in {"feed", "likes"} else entry["content"] for entry in page["items"]
        ]
        ids += [card["id"] for card in cards]
        assert all(card["tags"] == [] and len(card["categories"]) == 1 for card in cards)
        reads = [s for s in count_statements.statements if "FROM content" in s]
        assert len(reads) == 1, count_statements.statements
        # Besides the page, only the signed-in user is read (and, for the playlist, the
        # playlist itself).
        assert count_statements.count == (3 if path == "playlist" else 2), (
            count_statements.statements
        )
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]

    expected = [str(item.id) for item in items]
    assert sorted(ids) == sorted(expected)
    if path != "feed":  # most recent like, view, or first position first
        assert ids == expected


def _liked(session: AsyncSession, viewer: Viewer) -> tuple[Select[object], Ordering]:
    return LikeRepository(session).liked_cards(viewer), LIKED_NEWEST_FIRST


def _watched(session: AsyncSession, viewer: Viewer) -> tuple[Select[object], Ordering]:
    assert viewer.user_id is not None
    views = ViewRepository(session)
    latest = views.latest_per_content(viewer.user_id)
    return views.watched_cards(viewer, latest), newest_watched_first(latest)


def _in_playlist(session: AsyncSession, viewer: Viewer) -> tuple[Select[object], Ordering]:
    return PlaylistItemRepository(session).visible_cards(uuid.uuid4(), viewer), BY_POSITION


@pytest.mark.postgresql_only
@pytest.mark.parametrize(
    ("build", "index", "table"),
    [
        (_liked, "ix_likes_user_id_created_at", "likes"),
        (_watched, "ix_views_user_id_created_at", "views"),
        (_in_playlist, "uq_playlist_items_playlist_id_position", "playlist_items"),
    ],
    ids=["likes", "history", "playlist"],
)
async def test_a_kept_list_reads_its_own_rows_through_the_users_index(
    session: AsyncSession,
    runtime: Runtime,
    backend: str,
    build: Callable[[AsyncSession, Viewer], tuple[Select[object], Ordering]],
    index: str,
    table: str,
) -> None:
    """The page starts from the list's own rows of this user (or playlist), found through
    its index, never from a scan of the whole table. (How the items are then joined
    depends on sizes a test cannot show: on the bench data each is looked up by id.)"""
    viewer = Viewer(user=User(id=uuid.uuid4()))
    statement, ordering = build(session, viewer)
    after = [3] if ordering is BY_POSITION else [utcnow(), uuid.uuid4()]
    cursor = runtime.paginator.codec.encode(ordering, after)

    plans = []
    for page in (PageRequest(), PageRequest(cursor=cursor)):
        query = ContentRepository.card_list_query(statement, ordering, page, runtime.paginator)
        plans.append(await query_plan(session, query.statement, subqueries=False))

    for plan in plans:
        # Through the index itself, or through a bitmap of it that then reads the table.
        through_index = re.search(rf"\b{index} on {table}\b", plan)
        through_bitmap = re.search(rf"Bitmap Heap Scan on {table}\b", plan) and re.search(
            rf"Bitmap Index Scan on {index}\b", plan
        )
        assert through_index or through_bitmap, plan
        assert "Seq Scan" not in plan, plan
