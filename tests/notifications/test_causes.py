"""Each notification comes from its real cause through the API, once, only after the
cause committed, and never for one's own action or to a blocked account or one that
turned the type off. A new upload reaches followers and subscribers through the
worker, in bounded batches, with a constant number of statements in the request."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.db import Database
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.models import Content, Creator, Follow, Notification, NotificationEvent, User
from dreamlust.models.enums import ContentStatus, SubscriptionStatus, UserRole, UserStatus
from dreamlust.notifications import delivery
from dreamlust.notifications import service as notifications
from dreamlust.runtime import Runtime
from tests.conftest import StatementCounter
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import PASSWORD_HASH, make_content, make_subscription
from tests.fixtures.money import API, paid_creator, subscribe, tip

NOTIFICATIONS = f"{API}/notifications"


async def _received(
    client: httpx.AsyncClient, runtime: Runtime, user: User
) -> list[tuple[str, str]]:
    """(type, title) of the user's notifications, newest first."""
    response = await client.get(NOTIFICATIONS, headers=headers_for(runtime, user))
    assert response.status_code == 200, response.text
    return [(item["type"], item["title"]) for item in response.json()["items"]]


async def _types(client: httpx.AsyncClient, runtime: Runtime, user: User) -> list[str]:
    return [kind for kind, _title in await _received(client, runtime, user)]


async def test_a_follow_tells_the_creator_once(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    fan = await make_account(session, display_name="Fan Fiona")
    path = f"{API}/creators/{creator.handle}/follow"

    for _ in range(3):
        assert (await client.put(path, headers=headers_for(runtime, fan))).status_code == 200

    assert await _received(client, runtime, owner) == [
        ("NEW_FOLLOWER", "Fan Fiona started following you")
    ]
    assert await _types(client, runtime, fan) == []


async def test_comments_and_replies_tell_the_creator_and_the_author_replied_to(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    content = await make_content(session, creator, title="Harbour")
    fan, friend = await make_account(session), await make_account(session)
    await session.commit()
    comments = f"{API}/content/{content.id}/comments"

    async def comment(user: User, **body: Any) -> str:
        response = await client.post(
            comments, json={"text": "Lovely", **body}, headers=headers_for(runtime, user)
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    thread = await comment(fan)
    await comment(owner, parent_id=thread)  # the creator answers: only the fan hears of it
    await comment(friend, parent_id=thread)

    assert await _types(client, runtime, owner) == ["NEW_COMMENT", "NEW_COMMENT"]
    assert await _types(client, runtime, fan) == ["NEW_REPLY", "NEW_REPLY"]
    assert await _types(client, runtime, friend) == []


async def test_a_reply_tells_the_author_of_the_comment_replied_to_even_under_a_tombstone(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, _owner = await paid_creator(session)
    content = await make_content(session, creator)
    opener, answerer, latecomer = [await make_account(session) for _ in range(3)]
    await session.commit()
    comments = f"{API}/content/{content.id}/comments"
    thread = await client.post(
        comments, json={"text": "First"}, headers=headers_for(runtime, opener)
    )
    answer = await client.post(
        comments,
        json={"text": "Second", "parent_id": thread.json()["id"]},
        headers=headers_for(runtime, answerer),
    )
    deleted = await client.delete(
        f"{API}/comments/{thread.json()['id']}", headers=headers_for(runtime, opener)
    )
    assert (answer.status_code, deleted.status_code) == (201, 204)

    late = await client.post(
        comments,
        json={"text": "Third", "parent_id": answer.json()["id"]},
        headers=headers_for(runtime, latecomer),
    )

    assert late.status_code == 201, late.text
    assert await _types(client, runtime, answerer) == ["NEW_REPLY"]
    assert await _types(client, runtime, opener) == ["NEW_REPLY"]  # of the answer, before


async def test_money_coming_in_tells_the_creator(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    fan = await make_account(session)

    assert (await subscribe(client, runtime, fan, creator)).status_code == 201
    assert (await tip(client, runtime, fan, creator, "3.50")).status_code == 201
    declined = await subscribe(
        client, runtime, fan, creator, "VIP", payment_method="pm_card_declined"
    )
    assert declined.status_code == 409  # already subscribed: nothing more to hear of

    assert await _received(client, runtime, owner) == [
        ("PAYMENT_RECEIVED", "You received a tip of 3.50 USD"),
        ("NEW_SUBSCRIBER", "You have a new subscriber"),
    ]


async def test_a_review_tells_the_creator_its_outcome(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    moderator = await make_account(session, role=UserRole.MODERATOR)
    pending = [await make_content(session, creator, status=ContentStatus.DRAFT) for _ in range(2)]
    await session.execute(
        update(Content)
        .where(Content.id.in_([item.id for item in pending]))
        .values(status=ContentStatus.PENDING_REVIEW)
    )
    await session.commit()

    for item, decision in zip(pending, ("approve", "reject"), strict=True):
        response = await client.post(
            f"{API}/content/{item.id}/review",
            json={"decision": decision},
            headers=headers_for(runtime, moderator),
        )
        assert response.status_code == 200, response.text

    assert await _types(client, runtime, owner) == ["CONTENT_REJECTED", "CONTENT_APPROVED"]


async def _draft(session: AsyncSession, creator: Creator, **fields: Any) -> Content:
    """A video draft that has all it needs to be published."""
    return await make_content(
        session,
        creator,
        status=ContentStatus.DRAFT,
        media_url="https://media.example.com/v.mp4",
        duration=60,
        **fields,
    )


async def _publish(
    client: httpx.AsyncClient, runtime: Runtime, owner: User, content: Content
) -> httpx.Response:
    return await client.post(
        f"{API}/content/{content.id}/publish", headers=headers_for(runtime, owner)
    )


async def test_a_new_upload_reaches_followers_and_subscribers_through_the_worker(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, database: Database
) -> None:
    creator, owner = await paid_creator(session)
    follower, subscriber, both, stranger = [await make_account(session) for _ in range(4)]
    suspended = await make_account(session, status=UserStatus.SUSPENDED)
    uninterested = await make_account(
        session, preferences={"notifications": {"new_uploads": "off"}}
    )
    lapsed = await make_account(session)
    deleted = await make_account(session, deleted_at=utcnow())
    for user in (follower, both, suspended, uninterested, deleted):
        session.add(Follow(user_id=user.id, creator_id=creator.id))
    for user in (subscriber, both):
        await make_subscription(session, user, creator)
    await make_subscription(session, lapsed, creator, status=SubscriptionStatus.EXPIRED)
    draft = await _draft(session, creator, title="Dawn")
    await session.commit()

    assert (await _publish(client, runtime, owner, draft)).status_code == 200
    assert await _types(client, runtime, follower) == []  # not in the request

    assert await notifications.deliver_pending(database) == 3
    for user in (follower, subscriber, both):
        assert await _received(client, runtime, user) == [("NEW_UPLOAD", "New: Dawn")]
    for user in (stranger, uninterested, lapsed, owner):
        assert await _types(client, runtime, user) == []
    # Suspended and deleted accounts cannot sign in to look: their rows are counted.
    kept = await session.scalar(
        select(func.count()).where(Notification.user_id.in_([suspended.id, deleted.id]))
    )
    await session.commit()
    assert kept == 0
    assert await notifications.deliver_pending(database) == 0


async def test_publishing_runs_as_many_statements_for_many_followers_as_for_one(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    count_statements: StatementCounter,
) -> None:
    counts = []
    for followers in (1, 40):
        creator, owner = await paid_creator(session)
        for _ in range(followers):
            session.add(Follow(user_id=(await make_account(session)).id, creator_id=creator.id))
        draft = await _draft(session, creator)
        await session.commit()
        count_statements.clear()
        assert (await _publish(client, runtime, owner, draft)).status_code == 200
        counts.append(count_statements.count)

    assert counts[0] == counts[1]


async def _many_followers(session: AsyncSession, creator_id: uuid.UUID, count: int) -> None:
    users = [
        {
            "id": new_id(),
            "email": f"fan{number}@example.com",
            "username": f"fan{number}",
            "password_hash": PASSWORD_HASH,
            "preferences": {},
        }
        for number in range(count)
    ]
    await session.execute(insert(User), users)
    await session.execute(
        insert(Follow),
        [{"id": new_id(), "user_id": user["id"], "creator_id": creator_id} for user in users],
    )
    await session.commit()


@pytest.mark.postgresql_only
async def test_ten_thousand_followers_each_get_a_new_upload_once_despite_a_dying_worker(
    client: httpx.AsyncClient,
    session: AsyncSession,
    runtime: Runtime,
    database: Database,
    count_statements: StatementCounter,
) -> None:
    creator, owner = await paid_creator(session)
    await _many_followers(session, creator.id, 10_000)
    draft = await _draft(session, creator)
    await session.commit()
    count_statements.clear()

    assert (await _publish(client, runtime, owner, draft)).status_code == 200
    in_request = count_statements.count

    # A worker delivers three batches, then dies in the middle of a fourth.
    for _ in range(3):
        async with database.transaction() as batch:
            assert await delivery.deliver_batch(batch) == delivery.BATCH_SIZE
    async with database.session() as dying, dying.begin():
        assert await delivery.deliver_batch(dying) == delivery.BATCH_SIZE
        await dying.rollback()
    made = await notifications.deliver_pending(database)

    assert made == 10_000 - 3 * delivery.BATCH_SIZE
    per_user = (
        select(Notification.user_id, func.count().label("received"))
        .group_by(Notification.user_id)
        .subquery()
    )
    received = (
        await session.execute(
            select(per_user.c.received, func.count()).group_by(per_user.c.received)
        )
    ).all()
    await session.commit()
    assert [tuple(row) for row in received] == [(1, 10_000)]
    assert in_request < 40, count_statements.statements
    event = await session.scalar(select(NotificationEvent))
    await session.commit()
    assert event is not None
    assert event.delivered_at is not None


async def test_an_announcement_reaches_everyone_or_one_role_through_the_worker(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, database: Database
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN)
    creator_user = await make_account(session, role=UserRole.CREATOR)
    user = await make_account(session)
    path = f"{API}/admin/announcements"

    to_creators = await client.post(
        path,
        json={"title": "Payouts are faster", "role": "CREATOR"},
        headers=headers_for(runtime, admin),
    )
    to_all = await client.post(
        path, json={"title": "Welcome, spring"}, headers=headers_for(runtime, admin)
    )
    refused = await client.post(path, json={"title": "x"}, headers=headers_for(runtime, user))

    assert (to_creators.status_code, to_all.status_code, refused.status_code) == (202, 202, 403)
    await notifications.deliver_pending(database)
    assert [title for _kind, title in await _received(client, runtime, creator_user)] == [
        "Welcome, spring",
        "Payouts are faster",
    ]
    assert [title for _kind, title in await _received(client, runtime, user)] == ["Welcome, spring"]
    assert await _types(client, runtime, admin) == []  # the author's own action
