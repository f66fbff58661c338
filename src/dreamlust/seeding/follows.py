"""Free follows of creators, most of them going to the popular ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import accumulate

from dreamlust.seeding.context import Row, SeedContext
from dreamlust.seeding.people import Community, CreatorProfile, Person


@dataclass(frozen=True)
class SeedFollow:
    follower: Person
    creator: CreatorProfile
    created_at: datetime


def build_follows(ctx: SeedContext, community: Community) -> list[SeedFollow]:
    """Who follows whom; counts each follow on its creator."""
    followable = [creator for creator in community.creators if creator.publishes]
    if not followable:
        return []
    cum_weights = list(accumulate(creator.popularity for creator in followable))
    creator_users = {creator.user.id for creator in community.creators}
    follows: list[SeedFollow] = []
    for person in community.people:
        most = 4 if person.id in creator_users else 12
        wanted = int(ctx.rng.triangular(0, most, most / 3))
        candidates = ctx.pick_weighted(followable, cum_weights, wanted + 1)
        for creator in [c for c in candidates if c.user.id != person.id][:wanted]:
            creator.followers += 1
            start = max(person.created_at, creator.created_at)
            follows.append(SeedFollow(person, creator, ctx.between(start, ctx.now)))
    return follows


def follow_rows(ctx: SeedContext, follows: list[SeedFollow]) -> list[Row]:
    return [
        {
            "id": ctx.new_id(),
            "user_id": follow.follower.id,
            "creator_id": follow.creator.id,
            "created_at": follow.created_at,
        }
        for follow in follows
    ]
