"""With Redis and the read cache, whether a viewer may open a hot item is kept beside the
view buffer: its views cost no SQL, and the next view after moderation hides the item,
or its owner makes it private or deletes it, is refused."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from dreamlust.models import Content, User
from dreamlust.models.enums import UserRole
from tests.conftest import StatementCounter
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content, make_creator
from tests.fixtures.moderation import decided, reported
from tests.views.conftest import MakeViewsApp, ViewsApp
from tests.views.test_record_view import counts

ADULT = date(1990, 1, 1)


@pytest.fixture
def path() -> str:
    """Only the Redis path keeps visibility: the direct path reads the item anyway."""
    return "redis"


@pytest.fixture
async def app(make_views_app: MakeViewsApp) -> ViewsApp:
    prefix = f"dreamlust-test:views:{uuid.uuid4().hex}"
    return await make_views_app(
        view_buffer_prefix=prefix, cache_enabled=True, cache_prefix=f"{prefix}:cache"
    )


async def _owned(session: AsyncSession, **fields: object) -> tuple[Content, User]:
    owner = await make_account(session, role=UserRole.CREATOR, is_creator=True)
    content = await make_content(session, await make_creator(session, owner), **fields)
    await session.commit()
    return content, owner


async def _view(app: ViewsApp, content: Content, agent: str, **headers: str) -> int:
    response = await app.client.post(
        f"/api/v1/content/{content.id}/views", headers={"User-Agent": agent, **headers}
    )
    return response.status_code


async def _kept(app: ViewsApp, content: Content, count_statements: StatementCounter) -> None:
    """The item is viewed until its visibility is kept: then a new viewer costs no SQL, nor
    even an empty transaction (whose begin and commit cost a quarter of a view's CPU)."""
    assert await _view(app, content, f"first-{uuid.uuid4().hex}") == 202
    count_statements.clear()
    begun: list[object] = []

    def transaction_created(*args: object) -> None:
        begun.append(args)

    event.listen(Session, "after_transaction_create", transaction_created)
    try:
        assert await _view(app, content, f"kept-{uuid.uuid4().hex}") == 202
    finally:
        event.remove(Session, "after_transaction_create", transaction_created)
    assert count_statements.statements == []
    assert begun == []


async def test_views_of_a_hot_item_cost_no_sql_and_count_exactly(
    app: ViewsApp, session: AsyncSession, count_statements: StatementCounter
) -> None:
    content, _owner = await _owned(session)

    await _kept(app, content, count_statements)
    for agent in ("a", "b", "a", "c"):
        await _view(app, content, agent)
    assert count_statements.statements == []
    await app.flush()

    assert await counts(session, content) == (5, 5, 5)


async def test_a_moderation_hide_refuses_the_next_view(
    app: ViewsApp, session: AsyncSession, count_statements: StatementCounter
) -> None:
    content, _owner = await _owned(session)
    reporter = await make_account(session)
    staff = await make_account(session, role=UserRole.MODERATOR)
    await _kept(app, content, count_statements)

    report = await reported(app.client, app.runtime, reporter, "CONTENT", content.id)
    await decided(
        app.client, app.runtime, staff, report["id"], "ACTION_TAKEN", action="hide_content"
    )

    assert await _view(app, content, "after the hide") == 404
    await app.flush()
    assert await counts(session, content) == (2, 2, 2)


async def test_made_private_by_its_owner_refuses_the_next_view_but_the_owners(
    app: ViewsApp, session: AsyncSession, count_statements: StatementCounter
) -> None:
    content, owner = await _owned(session)
    await _kept(app, content, count_statements)
    own = headers_for(app.runtime, owner)

    response = await app.client.patch(
        f"/api/v1/content/{content.id}",
        json={"is_public": False},
        headers={**own, "If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text

    assert await _view(app, content, "after") == 404
    assert await _view(app, content, "owner", **own) == 202
    await app.flush()
    assert await counts(session, content) == (3, 3, 3)


async def test_a_delete_refuses_the_next_view(
    app: ViewsApp, session: AsyncSession, count_statements: StatementCounter
) -> None:
    content, owner = await _owned(session)
    await _kept(app, content, count_statements)

    deleted = await app.client.delete(
        f"/api/v1/content/{content.id}", headers=headers_for(app.runtime, owner)
    )
    assert deleted.status_code == 204, deleted.text

    assert await _view(app, content, "after the delete") == 404


async def test_what_one_kind_of_viewer_may_open_is_not_answered_for_another(
    app: ViewsApp, session: AsyncSession
) -> None:
    content, _owner = await _owned(session, is_nsfw=True)
    adult = await make_account(session, birth_date=ADULT, preferences={"nsfw_policy": "show"})
    shown = headers_for(app.runtime, adult)

    assert await _view(app, content, "adult", **shown) == 202
    assert await _view(app, content, "adult again", **shown) == 202
    assert await _view(app, content, "anonymous") == 404
