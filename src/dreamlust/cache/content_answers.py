"""Cached content cards: trending pages and the content detail.

What discovery shows depends on the viewer only through their NSFW policy and whether
they are a signed-in adult (`visibility.listed`), so an answer is read once per kind of
viewer, as an anonymous viewer of that kind would get it, and shared by every viewer of
the kind (anonymous viewers and signed-in minors share the strictest). What differs
between two viewers of one kind is personal and never comes from the cache:

- staff see everything: always read for them;
- an item's creator sees it unblurred and unlocked: a signed-in viewer who owns any
  item of a cached answer gets it read for them;
- premium media unlock for buyers and subscribers: a signed-in viewer gets the cached
  answer only when none of its premium items unlocks for them (checked with the same
  entitlement query as an uncached read);
- an item that only its owner may open (a draft, a private item) is not in the shared
  answer: the detail is read for the signed-in viewer when the shared one is a 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence

from fastapi import Response
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.cache.entries import Answer
from dreamlust.cache.read_cache import ReadCache
from dreamlust.content.entitlements import PremiumItem, unlocked
from dreamlust.content.visibility import Viewer
from dreamlust.errors import NotFound
from dreamlust.kit.clock import utcnow
from dreamlust.kit.compiled_once import Record
from dreamlust.models.enums import SubscriptionTier

CardsRead = Callable[[Viewer], Awaitable[tuple[Sequence[Record], Response]]]


def viewer_kind(viewer: Viewer) -> Viewer:
    """The anonymous stand-in for every viewer who is shown the same content."""
    return Viewer(is_adult=viewer.is_adult, nsfw_policy=viewer.nsfw_policy)


def kind_key(viewer: Viewer) -> str:
    return f"{'adult' if viewer.is_adult else 'other'}-{viewer.nsfw_policy.value}"


async def serve_cards(
    cache: ReadCache | None,
    session: AsyncSession,
    viewer: Viewer,
    *,
    name: str,
    key: str,
    scopes: Sequence[str],
    read: CardsRead,
) -> Response:
    """The cards `read` answers for `viewer`: shared from the cache when nothing in them
    is personal to the viewer (see the module's docstring)."""
    if cache is None or viewer.is_staff:
        return (await read(viewer))[1]
    kind = viewer_kind(viewer)

    async def fill() -> Answer:
        rows, response = await read(kind)
        return _answer(rows, response)

    try:
        answer = await cache.fetch(name, f"{name}:{kind_key(kind)}:{key}", scopes, fill)
    except NotFound:
        if viewer.user_id is None:
            raise
        return (await read(viewer))[1]
    if viewer.user_id is not None and await _personal(session, viewer, answer):
        return (await read(viewer))[1]
    return answer.response()


def _answer(rows: Sequence[Record], response: Response) -> Answer:
    return Answer(
        body=bytes(response.body),
        etag=response.headers.get("etag"),
        owners=frozenset(str(row.creator_user_id) for row in rows),
        premium=tuple(
            (str(row.id), str(row.creator_id), str(row.creator_user_id), str(row.premium_tier))
            for row in rows
            if row.is_premium
        ),
    )


async def _personal(session: AsyncSession, viewer: Viewer, answer: Answer) -> bool:
    """Whether this signed-in viewer would see any of `answer` otherwise."""
    if str(viewer.user_id) in answer.owners:
        return True
    if not answer.premium:
        return False
    items = [
        PremiumItem(uuid.UUID(item), uuid.UUID(creator), uuid.UUID(owner), SubscriptionTier(tier))
        for item, creator, owner, tier in answer.premium
    ]
    return bool(await unlocked(session, viewer, items, utcnow()))
