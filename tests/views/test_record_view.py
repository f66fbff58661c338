"""Recording a view: counted once per viewer per window, on the direct and the Redis path."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.visibility import Viewer
from dreamlust.db import Database
from dreamlust.jobs import periodic
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.kit.keyed_locks import KeyedLocks
from dreamlust.models import Content, Creator, View, ViewMark
from dreamlust.models.enums import ContentStatus, UserRole
from dreamlust.views.buffer import BufferedView
from dreamlust.views.repository import ViewRepository
from tests.conftest import StatementCounter
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content, make_creator, make_user
from tests.views.conftest import MakeViewsApp, ViewsApp


async def counts(session: AsyncSession, content: Content) -> tuple[int, int, int]:
    """(view rows, content.view_count, creator.total_views), read afresh."""
    rows = await session.scalar(select(func.count()).where(View.content_id == content.id))
    count = await session.scalar(select(Content.view_count).where(Content.id == content.id))
    total = await session.scalar(
        select(Creator.total_views).where(Creator.id == content.creator_id)
    )
    await session.commit()
    return int(rows or 0), int(count or 0), int(total or 0)


async def _published(session: AsyncSession) -> Content:
    content = await make_content(session, await make_creator(session))
    await session.commit()
    return content


async def _view(app: ViewsApp, content: Content, **kwargs: Any) -> bool:
    response = await app.client.post(f"/api/v1/content/{content.id}/views", **kwargs)
    assert response.status_code == 202, response.text
    counted: bool = response.json()["counted"]
    return counted


async def test_a_viewer_counts_once_within_the_window_and_again_after_it(
    views_app: ViewsApp, session: AsyncSession
) -> None:
    content = await _published(session)
    headers = headers_for(views_app.runtime, await make_account(session))

    assert await _view(views_app, content, headers=headers, json={"duration": 40})
    assert not await _view(views_app, content, headers=headers, json={"duration": 90})
    await views_app.flush()
    assert await counts(session, content) == (1, 1, 1)

    await views_app.pass_window(session)
    assert await _view(views_app, content, headers=headers)
    await views_app.flush()
    assert await counts(session, content) == (2, 2, 2)


async def test_each_view_keeps_its_watch_duration(
    views_app: ViewsApp, session: AsyncSession
) -> None:
    content = await _published(session)

    await _view(views_app, content, json={"duration": 125}, headers={"User-Agent": "a"})
    await _view(views_app, content, headers={"User-Agent": "b"})
    await views_app.flush()

    durations = await session.scalars(select(View.watch_duration).where(View.user_agent == "a"))
    assert list(durations) == [125]
    without = await session.scalars(select(View.watch_duration).where(View.user_agent == "b"))
    assert list(without) == [None]
    await session.commit()


async def test_anonymous_viewers_are_told_apart_by_address_and_user_agent(
    make_views_app: MakeViewsApp, session: AsyncSession
) -> None:
    app = await make_views_app(trusted_proxies=["127.0.0.1"])
    content = await _published(session)
    firefox = {"User-Agent": "Firefox/140", "X-Forwarded-For": "203.0.113.77"}

    assert await _view(app, content, headers=firefox)
    assert not await _view(app, content, headers=firefox)
    assert await _view(app, content, headers={**firefox, "User-Agent": "Safari/18"})
    assert await _view(app, content, headers={**firefox, "X-Forwarded-For": "198.51.100.9"})
    await app.flush()

    assert await counts(session, content) == (3, 3, 3)
    stored = (await session.execute(select(View))).scalars().all()
    await session.commit()
    for view in stored:
        row = " ".join(str(getattr(view, column.key)) for column in View.__table__.columns)
        assert "203.0.113.77" not in row
        assert "198.51.100.9" not in row
        assert len(view.viewer_hash) == 64


async def test_forwarded_for_from_an_untrusted_peer_does_not_make_a_new_viewer(
    make_views_app: MakeViewsApp, session: AsyncSession
) -> None:
    app = await make_views_app(trusted_proxies=["10.0.0.0/8"])
    content = await _published(session)
    agent = {"User-Agent": "Firefox/140"}

    assert await _view(app, content, headers=agent)
    for forged in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
        assert not await _view(app, content, headers={**agent, "X-Forwarded-For": forged})
    await app.flush()

    assert await counts(session, content) == (1, 1, 1)


async def test_a_signed_in_viewer_is_one_viewer_on_any_device(
    make_views_app: MakeViewsApp, session: AsyncSession
) -> None:
    app = await make_views_app(trusted_proxies=["127.0.0.1"])
    content = await _published(session)
    user = await make_account(session)
    token = headers_for(app.runtime, user)

    assert await _view(app, content, headers={**token, "User-Agent": "phone"})
    laptop = {**token, "User-Agent": "laptop", "X-Forwarded-For": "198.51.100.9"}
    assert not await _view(app, content, headers=laptop)
    assert await _view(app, content, headers={"User-Agent": "phone"})  # signed out: another
    await app.flush()

    assert await counts(session, content) == (2, 2, 2)
    users = await session.scalars(select(View.user_id).order_by(View.user_id.is_(None)))
    assert list(users) == [user.id, None]
    await session.commit()


async def test_identical_concurrent_views_count_once(
    make_views_app: MakeViewsApp, session: AsyncSession
) -> None:
    # Two applications, as two processes: within one, views of an item take turns; it is
    # the database (or Redis) that tells the two processes' identical views apart.
    views_app = await make_views_app()
    other = await make_views_app(view_buffer_prefix=views_app.runtime.settings.view_buffer_prefix)
    content = await _published(session)
    headers = headers_for(views_app.runtime, await make_account(session))
    path = f"/api/v1/content/{content.id}/views"

    responses = await asyncio.gather(
        *(app.client.post(path, headers=headers) for _ in range(16) for app in (views_app, other))
    )

    assert {response.status_code for response in responses} == {202}
    assert sum(response.json()["counted"] for response in responses) == 1
    await views_app.flush()
    assert await counts(session, content) == (1, 1, 1)


@pytest.mark.postgresql_only  # SQLite runs one write transaction at a time anyway
@pytest.mark.parametrize("path", ["direct"])
async def test_views_of_one_item_take_turns_in_a_process(
    views_app: ViewsApp, session: AsyncSession
) -> None:
    content = await _published(session)
    in_flight = most = 0

    def sent(_conn: Connection, _cursor: object, statement: str, *_args: object) -> None:
        nonlocal in_flight, most
        if "view_marks" in statement:
            in_flight += 1
            most = max(most, in_flight)

    def answered(_conn: Connection, _cursor: object, statement: str, *_args: object) -> None:
        nonlocal in_flight
        if "view_marks" in statement:
            in_flight -= 1

    event.listen(Engine, "before_cursor_execute", sent)
    event.listen(Engine, "after_cursor_execute", answered)
    try:
        counted = await asyncio.gather(
            *(_view(views_app, content, headers={"User-Agent": f"agent-{n}"}) for n in range(32))
        )
    finally:
        event.remove(Engine, "before_cursor_execute", sent)
        event.remove(Engine, "after_cursor_execute", answered)

    assert all(counted)
    assert most == 1
    assert len(views_app.runtime.counter_writes) == 0  # no lock left behind
    assert await counts(session, content) == (32, 32, 32)


async def test_views_of_content_of_one_creator_add_up_on_the_creator(
    views_app: ViewsApp, session: AsyncSession
) -> None:
    creator = await make_creator(session)
    first = await make_content(session, creator)
    second = await make_content(session, creator)
    await session.commit()

    for agent in ("a", "b", "c"):
        await _view(views_app, first, headers={"User-Agent": agent})
    await _view(views_app, second, headers={"User-Agent": "a"})
    await views_app.flush()

    assert (await counts(session, first))[:2] == (3, 3)
    assert await counts(session, second) == (1, 1, 4)


@pytest.mark.parametrize(
    "body",
    [
        {"duration": -1},
        {"duration": 86_401},
        {"duration": 10**12},
        {"duration": "30"},
        {"duration": 30.5},
        {"duration": True},
        {"duration": 30, "position": 3},
        [30],
        "30",
    ],
)
async def test_bad_input_is_refused_with_422(
    views_app: ViewsApp, session: AsyncSession, body: object
) -> None:
    content = await _published(session)

    response = await views_app.client.post(f"/api/v1/content/{content.id}/views", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    await views_app.flush()
    assert await counts(session, content) == (0, 0, 0)


async def test_a_body_is_optional(views_app: ViewsApp, session: AsyncSession) -> None:
    content = await _published(session)

    assert await _view(views_app, content, headers={"User-Agent": "a"})
    assert await _view(views_app, content, headers={"User-Agent": "b"}, json={})
    assert await _view(views_app, content, headers={"User-Agent": "c"}, json={"duration": None})
    assert await _view(views_app, content, headers={"User-Agent": "d"}, json={"duration": 0})


async def test_content_the_viewer_may_not_see_is_not_found(
    views_app: ViewsApp, session: AsyncSession
) -> None:
    owner = await make_user(session, role=UserRole.CREATOR, is_creator=True)
    creator = await make_creator(session, owner)
    draft = await make_content(session, creator, status=ContentStatus.DRAFT)
    deleted = await make_content(session, creator, deleted_at=utcnow())
    await session.commit()
    own = headers_for(views_app.runtime, owner)

    assert (await views_app.client.post(f"/api/v1/content/{draft.id}/views")).status_code == 404
    missing = f"/api/v1/content/{deleted.id}/views"
    assert (await views_app.client.post(missing)).status_code == 404
    nowhere = "/api/v1/content/0190a000-0000-7000-8000-000000000000/views"
    assert (await views_app.client.post(nowhere)).status_code == 404
    assert (await views_app.client.post("/api/v1/content/nope/views")).status_code == 422
    assert await _view(views_app, draft, headers=own)
    await views_app.flush()
    assert await counts(session, draft) == (1, 1, 1)
    assert (await counts(session, deleted))[:2] == (0, 0)


async def test_only_the_direct_path_writes_to_the_database_per_request(
    views_app: ViewsApp, session: AsyncSession, count_statements: StatementCounter
) -> None:
    content = await _published(session)
    count_statements.clear()

    assert await _view(views_app, content)

    verbs = {statement.split()[0].upper() for statement in count_statements.statements}
    writes = verbs & {"INSERT", "UPDATE", "DELETE", "WITH"}
    assert bool(writes) is not views_app.buffered


@pytest.mark.parametrize("path", ["direct"])
async def test_the_direct_path_is_one_statement_on_its_own_on_postgresql(
    views_app: ViewsApp,
    session: AsyncSession,
    backend: str,
    count_statements: StatementCounter,
) -> None:
    """On PostgreSQL the visibility check, the dedup mark, the view and both counters are
    one statement, sent outside any transaction (so the hot rows it locks are let go as
    it ends). SQLite: the item, the mark, each counter and the view apart."""
    content = await _published(session)
    count_statements.clear()
    assert await _view(views_app, content, headers={"User-Agent": "a"})
    counted, counted_in_transaction = count_statements.count, list(count_statements.in_transaction)
    count_statements.clear()
    assert not await _view(views_app, content, headers={"User-Agent": "a"})
    seen, seen_in_transaction = count_statements.count, list(count_statements.in_transaction)

    assert (counted, seen) == ((1, 1) if backend == "postgresql" else (5, 2))
    assert counted_in_transaction + seen_in_transaction == (
        [False, False] if backend == "postgresql" else []
    )
    assert await counts(session, content) == (1, 1, 1)


@pytest.mark.parametrize("path", ["direct"])
async def test_the_worker_forgets_the_marks_past_the_window_and_keeps_the_others(
    views_app: ViewsApp, session: AsyncSession
) -> None:
    content = await _published(session)
    assert await _view(views_app, content, headers={"User-Agent": "earlier"})
    await views_app.pass_window(session)
    assert await _view(views_app, content, headers={"User-Agent": "now"})

    await periodic.forget_view_marks(views_app.runtime)

    marks = await session.scalars(select(ViewMark.content_id))
    assert list(marks) == [content.id]
    await session.commit()
    assert not await _view(views_app, content, headers={"User-Agent": "now"})
    assert await _view(views_app, content, headers={"User-Agent": "earlier"})
    assert await counts(session, content) == (3, 3, 3)


async def test_the_same_view_recorded_twice_is_counted_once(
    database: Database, session: AsyncSession
) -> None:
    """What a rerun of the view's statement does (after an error of the driver, see
    `kit/compiled_once.py`): it finds the mark the first run moved, and counts nothing."""
    content = await _published(session)
    now = utcnow()
    view = BufferedView(new_id(), content.id, None, "viewer", "agent", 30, now)
    since = now - timedelta(minutes=30)

    outcomes = []
    for _ in range(2):
        async with database.session(write=False) as own:  # autocommit on PostgreSQL
            views = ViewRepository(own)
            outcomes.append(
                await views.count_unless_seen(
                    view.row(user_exists=True), Viewer(), since, now, KeyedLocks()
                )
            )
            await own.commit()

    assert outcomes == [True, False]
    assert await counts(session, content) == (1, 1, 1)
