"""A user's notifications as they come: the events of `GET /notifications/stream`.

Each event is one notification (as the list shows it); its SSE id is its place in the
user's notifications, (created_at, id), so a client that reconnects with
`Last-Event-ID` gets every notification after that place, and none before. A like
notification that grows is sent again, with its new place.

The stream holds no database connection while it waits: it is woken by the live feed
(or looks every `POLL_SECONDS` when the feed does not cross processes) and then reads
what is past its place in a short session of its own. Notifications are made in
several processes at once, so one may commit a little after a later one: each read
also looks `LATE` back past the stream's place and sends what it has not sent yet,
remembering only what it sent in that window. Nothing at or before the place a client
resumes from is sent again.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, tuple_
from sse_starlette import ServerSentEvent

from dreamlust.access_tokens import AccessClaims
from dreamlust.db import Database
from dreamlust.errors import BadRequest
from dreamlust.models import Notification, User
from dreamlust.notifications.live import LiveFeed
from dreamlust.notifications.schemas import NotificationRead

LATE = timedelta(seconds=5)
POLL_SECONDS = 10.0
PAGE = 100
# The comment that opens a stream: what is made from now on will be sent.
READY = "ready"
_SUBSCRIBE_SECONDS = 2.0
_FIRST = uuid.UUID(int=0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, order=True)
class Place:
    """Where a notification stands in its user's stream."""

    at: datetime
    id: uuid.UUID

    def token(self) -> str:
        return f"{(self.at - _EPOCH) // _MICROSECOND}-{self.id.hex}"

    @classmethod
    def parse(cls, token: str) -> Place:
        try:
            micros, _, hex_id = token.partition("-")
            return cls(_EPOCH + int(micros) * _MICROSECOND, uuid.UUID(hex=hex_id))
        except (ValueError, OverflowError) as exc:
            raise BadRequest("Last-Event-ID is not an event id of this stream.") from exc

    @classmethod
    def of(cls, notification: Notification) -> Place:
        return cls(_aware(notification.created_at), notification.id)


async def events(
    database: Database,
    feed: LiveFeed,
    resume: Place | None,
    token: AccessClaims,
) -> AsyncIterator[ServerSentEvent]:
    """The user's notifications after `resume` (after those made so far when None), then
    each as it comes, until the access token expires or is ended (a sign-out, a ban:
    `AccessClaims.revoked_for`), which each read checks before it sends anything. The
    stream opens with a `ready` comment."""
    user_id, until = token.user_id, token.expires_at
    with feed.listen(user_id) as woken:
        # When the feed is down the stream reads at once; the feed wakes it when back.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(feed.ready(), _SUBSCRIBE_SECONDS)
        floor = resume or await _newest(database, user_id)
        place, sent = floor, dict[tuple[uuid.UUID, datetime], datetime]()
        yield ServerSentEvent(comment=READY)
        while datetime.now(UTC) < until:
            woken.clear()
            lower = max(floor, Place(place.at - LATE, _FIRST))
            limit = len(sent) + PAGE
            found = await _after(database, token, lower, limit=limit)
            if found is None:
                return
            fresh = [item for item in found if (item.id, Place.of(item).at) not in sent]
            for notification in fresh:
                item = Place.of(notification)
                sent[notification.id, item.at] = item.at
                place = max(place, item)
                yield ServerSentEvent(
                    NotificationRead.model_validate(notification).model_dump_json(by_alias=True),
                    event="notification",
                    id=item.token(),
                )
            sent = {key: at for key, at in sent.items() if at > place.at - LATE}
            if len(found) < limit:
                await _sleep(woken, feed, until)


async def _sleep(woken: asyncio.Event, feed: LiveFeed, until: datetime) -> None:
    """Until woken, or the stream's end; at most `POLL_SECONDS` without a shared feed."""
    left = (until - datetime.now(UTC)).total_seconds()
    timeout = left if feed.shared else min(left, POLL_SECONDS)
    try:
        await asyncio.wait_for(woken.wait(), max(timeout, 0))
    except TimeoutError:
        return


async def _newest(database: Database, user_id: uuid.UUID) -> Place:
    async with database.session(write=False) as session:
        newest = await session.scalar(
            select(Notification)
            .where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(1)
        )
    return Place(_EPOCH, _FIRST) if newest is None else Place.of(newest)


async def _after(
    database: Database, token: AccessClaims, lower: Place, *, limit: int
) -> Sequence[Notification] | None:
    """The token's user's notifications past `lower`; None when the token was ended (or
    the account is gone)."""
    async with database.session(write=False) as session:
        user = await session.get(User, token.user_id)
        if user is None or token.revoked_for(user):
            return None
        found = await session.scalars(
            select(Notification)
            .where(
                Notification.user_id == token.user_id,
                tuple_(Notification.created_at, Notification.id) > tuple_(lower.at, lower.id),
            )
            .order_by(Notification.created_at, Notification.id)
            .limit(limit)
        )
        return found.all()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
