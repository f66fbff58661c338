"""Views, likes and comments of one content item, exactly as many as its plan says."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from dreamlust.content import trending
from dreamlust.content.trending import Window
from dreamlust.models.enums import ContentStatus
from dreamlust.seeding.catalog import COMMENTS, REPLIES, USER_AGENTS
from dreamlust.seeding.content import PlannedContent
from dreamlust.seeding.context import Row, SeedContext, fake_viewer_hash
from dreamlust.seeding.people import Community, Person

_ANONYMOUS_VISITORS_PER_ACCOUNT = 3
_SIGNED_IN_SHARE = 0.55
_EARLY_SKEW = 1.6


@dataclass(frozen=True)
class Audience:
    """Who can engage: everyone active, the adults among them, and anonymous visitors."""

    everyone: list[Person]
    adults: list[Person]
    anonymous: list[str]

    @classmethod
    def of(cls, community: Community) -> Audience:
        visitors = len(community.people) * _ANONYMOUS_VISITORS_PER_ACCOUNT
        return cls(
            everyone=community.audience,
            adults=community.adults,
            anonymous=[fake_viewer_hash(f"visitor:{number}") for number in range(visitors)],
        )

    def for_content(self, plan: PlannedContent) -> list[Person]:
        return self.adults if plan.restricted else self.everyone


@dataclass
class Engagement:
    views: list[Row] = field(default_factory=list)
    likes: list[Row] = field(default_factory=list)
    comments: list[Row] = field(default_factory=list)


def engage(ctx: SeedContext, plan: PlannedContent, row: Row, audience: Audience) -> Engagement:
    """The item's engagement rows; sets the counters and trending scores on its `row`."""
    engagement = Engagement()
    if plan.published_at is None or plan.engaged_until is None:
        return engagement
    window = _Window(ctx, plan.published_at, plan.engaged_until)
    people = audience.for_content(plan)
    engagement.views = _views(ctx, plan, row, audience, people, window)
    engagement.likes = _likes(ctx, plan, people, window)
    engagement.comments = _comments(ctx, plan, people, window)
    row["view_count"] = len(engagement.views)
    row["like_count"] = len(engagement.likes)
    row["comment_count"] = len(engagement.comments)
    if plan.status is ContentStatus.PUBLISHED:
        viewed = [view["created_at"] for view in engagement.views]
        liked = [like["created_at"] for like in engagement.likes]
        for trend in Window:
            row[trend.column_name] = trending.score(viewed, liked, ctx.now, trend)
    return engagement


class _Window:
    """The time an item was live; most engagement comes soon after publishing."""

    def __init__(self, ctx: SeedContext, start: datetime, end: datetime) -> None:
        self._rng = ctx.rng
        self.start = start
        self.end = end

    def moment(self, after: datetime | None = None) -> datetime:
        start = self.start if after is None or not self.start < after < self.end else after
        return start + (self.end - start) * math.pow(self._rng.random(), _EARLY_SKEW)


def _views(
    ctx: SeedContext,
    plan: PlannedContent,
    row: Row,
    audience: Audience,
    people: list[Person],
    window: _Window,
) -> list[Row]:
    rng = ctx.rng
    signed_in_share = 1.0 if plan.restricted else _SIGNED_IN_SHARE
    duration: int | None = row["duration"]
    views: list[Row] = []
    for _ in range(plan.views):
        if rng.random() < signed_in_share:
            person = rng.choice(people)
            user_id, viewer_hash = person.id, person.viewer_hash
            at = window.moment(after=person.created_at)
        else:
            user_id, viewer_hash = None, rng.choice(audience.anonymous)
            at = window.moment()
        watched = int(duration * rng.uniform(0.05, 1.0)) if duration else rng.randint(3, 120)
        views.append(
            {
                "id": ctx.new_id(),
                "content_id": plan.id,
                "user_id": user_id,
                "viewer_hash": viewer_hash,
                "user_agent": rng.choice(USER_AGENTS),
                "watch_duration": watched,
                "created_at": at,
            }
        )
    return views


def _likes(
    ctx: SeedContext, plan: PlannedContent, people: list[Person], window: _Window
) -> list[Row]:
    return [
        {
            "id": ctx.new_id(),
            "content_id": plan.id,
            "user_id": person.id,
            "created_at": window.moment(after=person.created_at),
        }
        for person in ctx.rng.sample(people, plan.likes)
    ]


def _comments(
    ctx: SeedContext, plan: PlannedContent, people: list[Person], window: _Window
) -> list[Row]:
    rng = ctx.rng
    threads = [
        _comment(ctx, plan, author, rng.choice(COMMENTS), window, after=author.created_at)
        for author in (rng.choice(people) for _ in range(plan.comments))
    ]
    if threads and rng.random() < 0.15:
        rng.choice(threads)["is_pinned"] = True
    replies: list[Row] = []
    for _ in range(plan.replies):
        parent = rng.choice(threads)
        author = plan.creator.user if rng.random() < 0.3 else rng.choice(people)
        reply = _comment(ctx, plan, author, rng.choice(REPLIES), window, after=parent["created_at"])
        reply["parent_id"] = parent["id"]
        parent["reply_count"] += 1
        replies.append(reply)
    return threads + replies


def _comment(
    ctx: SeedContext,
    plan: PlannedContent,
    author: Person,
    text: str,
    window: _Window,
    *,
    after: datetime,
) -> Row:
    at = window.moment(after=after)
    edited = ctx.rng.random() < 0.05
    return {
        "id": ctx.new_id(),
        "content_id": plan.id,
        "user_id": author.id,
        "parent_id": None,
        "text": text,
        "like_count": 0,
        "reply_count": 0,
        "is_edited": edited,
        "is_pinned": False,
        "created_at": at,
        "updated_at": window.moment(after=at) if edited else at,
        "deleted_at": None,
        "version": 1,
    }
