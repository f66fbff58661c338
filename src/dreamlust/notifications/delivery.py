"""Delivery: notification events become notifications, in bounded batches.

Each batch is one transaction: the event is taken with a row lock other deliverers
skip (PostgreSQL's SKIP LOCKED; SQLite's writers take turns), the next recipients after
`delivered_up_to` get their notification as they want it delivered (in the app: INSERT …
ON CONFLICT DO NOTHING on the unique (event, user); by e-mail: once the batch has
committed), and the event's cursor moves past them. A deliverer that dies midway loses
only its open batch, which the next run delivers again; nobody gets an event's
notification twice in the app (an e-mail, sent after the commit, is lost rather than
sent twice when the deliverer dies between the two). The worker runs this for every
pending event; a request that caused an event for one user runs it for that event as
soon as it has committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.kit.upsert import insert_or_ignore
from dreamlust.models import Notification, NotificationEvent
from dreamlust.notifications.audience import recipients
from dreamlust.notifications.kinds import SETTING_OF
from dreamlust.notifications.outlets import Email, after_delivery
from dreamlust.notifications.repository import NotificationEventRepository
from dreamlust.users.preferences import Delivery

BATCH_SIZE = 500


async def deliver_batch(
    session: AsyncSession, event_id: uuid.UUID | None = None, *, batch_size: int = BATCH_SIZE
) -> int | None:
    """Deliver the next batch of one pending event (that one, when given); how many
    notifications it made in the app, or None when no event was pending."""
    event = await NotificationEventRepository(session).next_pending(event_id)
    if event is None:
        return None
    found = (await session.execute(recipients(event, batch_size))).all()
    in_app = [user.id for user in found if Delivery(user.delivery).in_app]
    if in_app:
        now = utcnow()
        await session.execute(
            insert_or_ignore(session, Notification), [_row(event, user, now) for user in in_app]
        )
    if found:
        event.delivered_up_to = found[-1].id
    if len(found) < batch_size:
        event.delivered_at = utcnow()
    await session.flush()
    emails = [
        _email(event, user) for user in found if user.emails and Delivery(user.delivery).by_email
    ]
    after_delivery(session, in_app, emails)
    return len(in_app)


def _email(event: NotificationEvent, user: Row[uuid.UUID, str, str, bool]) -> Email:
    return Email(
        user_id=user.id,
        address=user.email,
        setting=SETTING_OF[event.type],
        title=event.title,
        message=event.message,
        link=event.link,
    )


def _row(event: NotificationEvent, user_id: uuid.UUID, now: datetime) -> dict[str, object]:
    return {
        "id": new_id(),
        "event_id": event.id,
        "user_id": user_id,
        "type": event.type,
        "title": event.title,
        "message": event.message,
        "link": event.link,
        "details": event.details,
        "created_at": now,
    }
