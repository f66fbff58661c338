"""`GET /notifications/stream`: each new notification of the signed-in user, live, once;
`Last-Event-ID` resumes without loss or repeats; heartbeats; the stream ends with its
access token, and a client that goes leaves nothing behind. (Across API processes
through Redis: test_stream_processes.py.)"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.access_tokens import AccessTokens
from dreamlust.app import create_app
from dreamlust.auth.sessions import end_access_tokens
from dreamlust.config import Settings
from dreamlust.kit.clock import utcnow
from dreamlust.models import Creator, User
from dreamlust.notifications import service as notifications
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import bearer, headers_for, make_account
from tests.fixtures.factories import make_content
from tests.fixtures.money import API, paid_creator
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.serving import listening
from tests.fixtures.sse import EventReader, event_stream

STREAM = f"{API}/notifications/stream"


@pytest.fixture
async def http(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the application served over HTTP (streams need a real server)."""
    async with (
        listening(create_app(runtime.settings, runtime=runtime)) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as client,
    ):
        yield client


async def _follow(http: httpx.AsyncClient, runtime: Runtime, creator: Creator, fan: User) -> None:
    response = await http.put(
        f"{API}/creators/{creator.handle}/follow", headers=headers_for(runtime, fan)
    )
    assert response.status_code == 200, response.text


async def _titles(reader: EventReader, count: int) -> list[str]:
    return [str((await reader.next_event()).json()["title"]) for _ in range(count)]


async def test_each_new_notification_of_the_user_arrives_once_as_the_list_shows_it(
    http: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    other_creator, _ = await paid_creator(session)
    fans = [await make_account(session, display_name=f"Fan {n}") for n in range(3)]

    async with event_stream(http, STREAM, headers_for(runtime, owner)) as reader:
        await _follow(http, runtime, creator, fans[0])
        first = await reader.next_event()
        await _follow(http, runtime, other_creator, fans[1])  # not the owner's
        await _follow(http, runtime, creator, fans[2])
        second = await reader.next_event()

    assert (first.event, second.event) == ("notification", "notification")
    assert [first.json()["title"], second.json()["title"]] == [
        "Fan 0 started following you",
        "Fan 2 started following you",
    ]
    listed = await http.get(f"{API}/notifications", headers=headers_for(runtime, owner))
    assert listed.json()["items"] == [second.json(), first.json()]
    assert first.id != second.id


async def test_a_stream_starts_with_what_comes_after_it_opened(
    http: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    early, late = await make_account(session), await make_account(session, display_name="Late")
    await _follow(http, runtime, creator, early)
    await asyncio.sleep(0.2)  # the notification is made after the response

    async with event_stream(http, STREAM, headers_for(runtime, owner)) as reader:
        await _follow(http, runtime, creator, late)
        assert await _titles(reader, 1) == ["Late started following you"]


async def test_last_event_id_resumes_with_what_was_missed_once(
    http: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    fans = [await make_account(session, display_name=f"Fan {n}") for n in range(4)]
    headers = headers_for(runtime, owner)

    async with event_stream(http, STREAM, headers) as reader:
        await _follow(http, runtime, creator, fans[0])
        last_seen = await reader.next_event()
    await _follow(http, runtime, creator, fans[1])
    await _follow(http, runtime, creator, fans[2])
    await asyncio.sleep(0.2)

    assert last_seen.id is not None
    async with event_stream(http, STREAM, headers | {"Last-Event-ID": last_seen.id}) as reader:
        # Each follow's notification is delivered after its response, so the two missed
        # may have been made in either order; each comes once.
        assert sorted(await _titles(reader, 2)) == [
            "Fan 1 started following you",
            "Fan 2 started following you",
        ]
        await _follow(http, runtime, creator, fans[3])
        assert await _titles(reader, 1) == ["Fan 3 started following you"]


async def test_a_stream_ends_once_its_token_is_ended_and_sends_nothing_after(
    http: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    fans = [await make_account(session, display_name=f"Fan {n}") for n in range(2)]

    async with event_stream(http, STREAM, headers_for(runtime, owner)) as reader:
        await _follow(http, runtime, creator, fans[0])
        assert await _titles(reader, 1) == ["Fan 0 started following you"]
        await end_access_tokens(session, owner.id)  # as signing out does
        await session.commit()
        await _follow(http, runtime, creator, fans[1])
        with pytest.raises(EOFError):  # the stream ends, Fan 1's notification unsent
            await reader.next_event()


async def test_a_growing_like_notification_is_sent_again_with_its_new_count(
    http: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    creator, owner = await paid_creator(session)
    content = await make_content(session, creator)
    await session.commit()
    fans = [await make_account(session, display_name=f"Fan {n}") for n in range(2)]
    window = timedelta(hours=1)
    await notifications.tell_likes(runtime.database, window, utcnow())  # the job starts

    async with event_stream(http, STREAM, headers_for(runtime, owner)) as reader:
        for fan in fans:
            path = f"{API}/content/{content.id}/like"
            assert (await http.put(path, headers=headers_for(runtime, fan))).status_code == 200
            # as if a minute had passed: the job leaves the newest seconds alone
            later = utcnow() + timedelta(minutes=1)
            await notifications.tell_likes(runtime.database, window, later)
        first, second = await reader.next_event(), await reader.next_event()

    assert first.json()["id"] == second.json()["id"]
    assert (first.json()["metadata"]["count"], second.json()["metadata"]["count"]) == (1, 2)
    assert first.id != second.id


async def test_heartbeats_keep_a_quiet_stream_open(
    settings: Settings, session: AsyncSession
) -> None:
    owner = await make_account(session)
    async with (
        own_runtime(settings, notification_heartbeat_seconds=0.1) as runtime,
        listening(create_app(runtime.settings, runtime=runtime)) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
        event_stream(http, STREAM, headers_for(runtime, owner)) as reader,
    ):
        beats = [await reader.next() for _ in range(3)]
    assert all(beat.comment is not None and beat.comment.startswith("ping") for beat in beats)


async def test_the_stream_ends_when_its_access_token_expires(
    http: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_account(session)
    short_lived = AccessTokens(runtime.settings.signing_key(), timedelta(seconds=3))

    async with event_stream(http, STREAM, bearer(short_lived.issue(owner))) as reader:
        assert await reader.ended()


async def test_a_client_that_goes_leaves_no_listener_behind(
    http: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_account(session)
    async with event_stream(http, STREAM, headers_for(runtime, owner)):
        assert runtime.live.listeners(owner.id) == 1
    for _ in range(100):
        if runtime.live.listeners(owner.id) == 0:
            break
        await asyncio.sleep(0.05)
    assert runtime.live.listeners(owner.id) == 0


async def test_a_stream_needs_a_signed_in_user_and_a_valid_last_event_id(
    http: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    owner = await make_account(session)
    anonymous = await http.get(STREAM)
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"

    headers = headers_for(runtime, owner) | {"Last-Event-ID": "yesterday"}
    malformed = await http.get(STREAM, headers=headers)
    assert malformed.status_code == 400
    assert malformed.headers["content-type"] == "application/problem+json"
