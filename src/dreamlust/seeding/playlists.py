"""Playlists of listed content, with dense positions 0..n-1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from dreamlust.seeding.catalog import DESCRIPTIONS, PLAYLIST_NAMES
from dreamlust.seeding.content import PlannedContent
from dreamlust.seeding.context import Row, SeedContext
from dreamlust.seeding.people import Community


@dataclass
class PlaylistBatch:
    playlists: list[Row]
    items: list[Row]


def playlist_batches(
    ctx: SeedContext, community: Community, plans: list[PlannedContent], batch_size: int
) -> Iterator[PlaylistBatch]:
    """Playlists owned by about a third of the active accounts, `batch_size` owners at a time."""
    rng = ctx.rng
    listed = [plan for plan in plans if plan.listed]
    safe = [plan for plan in listed if not plan.restricted]
    owners = [person for person in community.audience if rng.random() < 0.35]
    for start in range(0, len(owners), batch_size):
        batch = PlaylistBatch(playlists=[], items=[])
        for owner in owners[start : start + batch_size]:
            pool = listed if owner.adult else safe
            names = rng.sample(PLAYLIST_NAMES, rng.choices((1, 2, 3), (60, 30, 10))[0])
            for name in names:
                if not pool:
                    break
                created_at = ctx.between(owner.created_at, ctx.now)
                playlist_id = ctx.new_id()
                chosen = rng.sample(pool, min(len(pool), rng.randint(3, 15)))
                items: list[Row] = [
                    {
                        "id": ctx.new_id(),
                        "playlist_id": playlist_id,
                        "content_id": plan.id,
                        "position": position,
                        "created_at": ctx.between(
                            max(created_at, plan.published_at or created_at), ctx.now
                        ),
                    }
                    for position, plan in enumerate(chosen)
                ]
                batch.items.extend(items)
                batch.playlists.append(
                    {
                        "id": playlist_id,
                        "owner_id": owner.id,
                        "name": name,
                        "description": rng.choice(DESCRIPTIONS) if rng.random() < 0.3 else None,
                        "is_public": rng.random() < 0.6,
                        "item_count": len(items),
                        "created_at": created_at,
                        "updated_at": max(item["created_at"] for item in items),
                        "deleted_at": None,
                        "version": 1,
                    }
                )
        yield batch
