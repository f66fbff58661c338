"""Who receives an event's notifications, as SQL: its audience, less the accounts that
must not get it (the actor, suspended, banned or inactive accounts, and those who turned
this type of notification off in their preferences; deleted accounts are out of every
query already, see `kit.soft_delete`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, true, union

from dreamlust.content.entitlements import LIVE_SUBSCRIPTION
from dreamlust.models import Follow, NotificationEvent, Subscription, User
from dreamlust.models.enums import Audience, NotificationType, UserStatus

# The preference (`preferences.notifications.<key>`) that switches each type off;
# types without one always reach their recipient.
_PREFERENCE = {
    NotificationType.NEW_FOLLOWER: "new_follower",
    NotificationType.NEW_SUBSCRIBER: "new_subscriber",
    NotificationType.NEW_COMMENT: "comments",
    NotificationType.NEW_REPLY: "comments",
    NotificationType.NEW_LIKE: "likes",
    NotificationType.NEW_UPLOAD: "new_uploads",
    NotificationType.PAYMENT_RECEIVED: "payments",
    NotificationType.SYSTEM_ANNOUNCEMENT: "announcements",
}


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


def _wants(event: NotificationEvent) -> ColumnElement[bool]:
    key = _PREFERENCE.get(event.type)
    if key is None:
        return true()
    switch = User.preferences["notifications"][key].as_boolean()
    return or_(switch.is_(None), switch.is_(True))


def recipients(event: NotificationEvent, limit: int) -> Select[Any]:
    """The next `limit` recipients of the event, in id order after those done."""
    stmt = (
        select(User.id)
        .where(
            _members(event),
            _wants(event),
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
