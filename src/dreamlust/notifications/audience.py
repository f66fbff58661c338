"""Who receives an event's notifications, as SQL: its audience, less the accounts that
must not get it (the actor, suspended, banned or inactive accounts, and those who turned
this type of notification off in their preferences; deleted accounts are out of every
query already, see `kit.soft_delete`), with how each wants it delivered."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, select, true, union

from dreamlust.content.entitlements import LIVE_SUBSCRIPTION
from dreamlust.models import Follow, NotificationEvent, Subscription, User
from dreamlust.models.enums import Audience, UserStatus
from dreamlust.notifications.kinds import delivery_of, emails_allowed
from dreamlust.users.preferences import Delivery


def _members(event: NotificationEvent) -> ColumnElement[bool]:
    if event.audience is Audience.USER:
        return User.id == event.recipient_id
    if event.audience is Audience.ROLE:
        return User.role == event.role
    if event.audience is Audience.FOLLOWERS:
        fans: Any = union(
            select(Follow.user_id).where(Follow.creator_id == event.creator_id),
            select(Subscription.subscriber_id).where(
                Subscription.creator_id == event.creator_id,
                Subscription.status.in_(LIVE_SUBSCRIPTION),
            ),
        )
        return User.id.in_(select(fans.subquery().c[0]))
    return true()


def recipients(event: NotificationEvent, limit: int) -> Select[uuid.UUID, str, str, bool]:
    """The next `limit` recipients of the event, in id order after those done: each
    one's id, address, how they want this type delivered (`delivery`) and whether they
    take e-mail at all (`emails`)."""
    delivery = delivery_of(event.type)
    stmt = (
        select(
            User.id,
            User.email,
            delivery.label("delivery"),
            emails_allowed().label("emails"),
        )
        .where(
            _members(event),
            delivery != Delivery.OFF.value,
            User.status == UserStatus.ACTIVE,
        )
        .order_by(User.id)
        .limit(limit)
    )
    if event.actor_id is not None:
        stmt = stmt.where(User.id != event.actor_id)
    if event.delivered_up_to is not None:
        stmt = stmt.where(User.id > event.delivered_up_to)
    return stmt
