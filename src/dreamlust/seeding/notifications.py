"""In-app notifications: a welcome for everyone, and news of followers, subscribers and tips."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from dreamlust.models.enums import NotificationType
from dreamlust.seeding.commerce import Ledger
from dreamlust.seeding.context import Row, SeedContext
from dreamlust.seeding.follows import SeedFollow
from dreamlust.seeding.people import Community, Person

_FOLLOW_NOTICE_SHARE = 0.3


def notification_rows(
    ctx: SeedContext, community: Community, follows: list[SeedFollow], ledger: Ledger
) -> list[Row]:
    rows = [
        _notice(
            ctx,
            person,
            NotificationType.SYSTEM_ANNOUNCEMENT,
            at=person.created_at + timedelta(minutes=1),
            title="Welcome to dreamlust",
            message="Follow creators you love and collect favourites in playlists.",
            link="/discover",
        )
        for person in community.people
    ]
    rows.extend(
        _notice(
            ctx,
            follow.creator.user,
            NotificationType.NEW_FOLLOWER,
            at=follow.created_at,
            title=f"{follow.follower.display_name} started following you",
            link=f"/users/{follow.follower.username}",
            details={"follower_id": str(follow.follower.id)},
        )
        for follow in follows
        if ctx.rng.random() < _FOLLOW_NOTICE_SHARE
    )
    rows.extend(
        _notice(
            ctx,
            subscription.creator.user,
            NotificationType.NEW_SUBSCRIBER,
            at=subscription.started_at,
            title=f"{subscription.subscriber.display_name} subscribed ({subscription.tier.value})",
            link="/creators/me/subscribers",
            details={"subscription_id": str(subscription.id)},
        )
        for subscription in ledger.subscriptions
        if subscription.started_at is not None
    )
    rows.extend(
        _notice(
            ctx,
            tip.creator.user,
            NotificationType.PAYMENT_RECEIVED,
            at=tip.created_at,
            title=f"{tip.tipper.display_name} sent you a tip",
            message=f"{tip.amount} {tip.creator.currency}: {tip.message}",
            link="/creators/me/earnings",
            details={"amount": str(tip.amount), "currency": tip.creator.currency},
        )
        for tip in ledger.tips
    )
    return rows


def _notice(
    ctx: SeedContext,
    recipient: Person,
    kind: NotificationType,
    *,
    at: datetime,
    title: str,
    link: str,
    message: str | None = None,
    details: dict[str, Any] | None = None,
) -> Row:
    read = ctx.rng.random() < 0.6
    return {
        "id": ctx.new_id(),
        "user_id": recipient.id,
        "type": kind,
        "title": title,
        "message": message,
        "link": link,
        "is_read": read,
        "read_at": ctx.between(at, ctx.now) if read else None,
        "metadata": details,
        "created_at": at,
    }
