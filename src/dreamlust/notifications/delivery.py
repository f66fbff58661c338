"""Delivery: notification events become notifications, in bounded batches.

Each batch is one transaction: the event is taken with a row lock other deliverers
skip (PostgreSQL's SKIP LOCKED; SQLite's writers take turns), the next recipients after
`delivered_up_to` get their notification (INSERT … ON CONFLICT DO NOTHING on the unique
(event, user)), and the event's cursor moves past them. A deliverer that dies midway
loses only its open batch, which the next run delivers again; nobody gets an event's
notification twice. The worker runs this for every pending event; a request that
caused an event for one user runs it for that event as soon as it has committed.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.kit.upsert import insert_or_ignore
from dreamlust.models import Notification, NotificationEvent
from dreamlust.notifications.audience import recipients
from dreamlust.notifications.repository import NotificationEventRepository

BATCH_SIZE = 500


async def deliver_batch(
    session: AsyncSession, event_id: uuid.UUID | None = None, *, batch_size: int = BATCH_SIZE
) -> int | None:
    """Deliver the next batch of one pending event (that one, when given); how many
    notifications it made, or None when no event was pending."""
    event = await NotificationEventRepository(session).next_pending(event_id)
    if event is None:
        return None
    users = list(await session.scalars(recipients(event, batch_size)))
    if users:
        now = utcnow()
        await session.execute(
            insert_or_ignore(session, Notification),
            [_row(event, user_id, now) for user_id in users],
        )
        event.delivered_up_to = users[-1]
    if len(users) < batch_size:
        event.delivered_at = utcnow()
    await session.flush()
    return len(users)


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
