"""Removing rows for good, with the counters of other rows that counted what goes.

Deleting a row takes its dependants with it (ON DELETE CASCADE: the views, likes,
comments and search document of content, the follows and likes of an account …) or
keeps them detached (SET NULL: the ledger, the views and comments of a purged account,
the reports it made). Where another row's counter counted a dependant that goes, the
counter is lowered in the same transaction, before the delete, by the rows about to go:
a creator's total views and likes, a playlist's items, a tag's usage, a creator's
followers and subscribers, an item's likes. Counters move creators first, then content,
then playlists and tags, the order in which the live code locks them. Each removal
returns the media assets deleted with the rows, whose files go once the delete commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dreamlust.content.entitlements import LIVE_SUBSCRIPTION
from dreamlust.db import INCLUDE_DELETED
from dreamlust.models import (
    Category,
    Comment,
    Content,
    Creator,
    Follow,
    Like,
    MediaAsset,
    Playlist,
    PlaylistItem,
    Subscription,
    Tag,
    User,
    View,
    content_tags,
)
from dreamlust.models.enums import ContentStatus

EVERY_ROW = {INCLUDE_DELETED: True}
Ids = Sequence[uuid.UUID]
# (owner id, amount) rows.
Tally = Select[uuid.UUID, int]


async def remove_content(session: AsyncSession, ids: Ids) -> list[uuid.UUID]:
    chosen = Content.id.in_(ids)
    live = Content.deleted_at.is_(None)
    by_creator = select(Content.creator_id, func.count()).where(chosen).group_by(Content.creator_id)
    await _subtract(session, Creator.total_views, by_creator.join(View))
    await _subtract(session, Creator.total_likes, by_creator.join(Like))
    await _subtract(
        session,
        Creator.content_count,
        by_creator.where(live, Content.status == ContentStatus.PUBLISHED),
    )
    await _subtract(
        session,
        Playlist.item_count,
        select(PlaylistItem.playlist_id, func.count())
        .where(PlaylistItem.content_id.in_(ids))
        .group_by(PlaylistItem.playlist_id),
    )
    await _subtract(
        session,
        Tag.usage_count,
        select(content_tags.c.tag_id, func.count())
        .join(Content, Content.id == content_tags.c.content_id)
        .where(chosen, live)
        .group_by(content_tags.c.tag_id),
    )
    assets = await _assets(session, MediaAsset.content_id.in_(ids))
    await _delete(session, Content, ids)
    return assets


async def remove_users(session: AsyncSession, ids: Ids) -> list[uuid.UUID]:
    await _subtract(
        session,
        Creator.follower_count,
        select(Follow.creator_id, func.count())
        .where(Follow.user_id.in_(ids))
        .group_by(Follow.creator_id),
    )
    await _subtract(
        session,
        Creator.subscriber_count,
        select(Subscription.creator_id, func.count())
        .where(Subscription.subscriber_id.in_(ids), Subscription.status.in_(LIVE_SUBSCRIPTION))
        .group_by(Subscription.creator_id),
    )
    likes = Like.user_id.in_(ids)
    await _subtract(
        session,
        Creator.total_likes,
        select(Content.creator_id, func.count())
        .join(Like)
        .where(likes)
        .group_by(Content.creator_id),
    )
    await _subtract(
        session,
        Content.like_count,
        select(Like.content_id, func.count()).where(likes).group_by(Like.content_id),
    )
    assets = await _assets(session, MediaAsset.owner_id.in_(ids))
    await _delete(session, User, ids)
    return assets


async def remove_creators(session: AsyncSession, ids: Ids) -> list[uuid.UUID]:
    """Creators whose content is gone already: what else hangs on them (follows, tiers,
    subscriptions) counts only toward the creators themselves."""
    await _delete(session, Creator, ids)
    return []


async def remove_playlists(session: AsyncSession, ids: Ids) -> list[uuid.UUID]:
    await _delete(session, Playlist, ids)
    return []


async def remove_comments(session: AsyncSession, ids: Ids) -> list[uuid.UUID]:
    """Deleted comments without replies: the comment and reply counts count live
    comments only, so none of them changes."""
    await _delete(session, Comment, ids)
    return []


async def remove_categories(session: AsyncSession, ids: Ids) -> list[uuid.UUID]:
    await _delete(session, Category, ids)
    return []


async def _subtract(
    session: AsyncSession, column: InstrumentedAttribute[int], tally: Tally
) -> None:
    """Lower `column` of each owner in `tally` (owner id, amount) by its amount; owners in
    id order, so that concurrent writers lock them in one order."""
    amounts = sorted((await session.execute(tally, execution_options=EVERY_ROW)).all())
    if not amounts:
        return
    table = column.property.parent.class_.__table__
    values: dict[str, Any] = {column.key: table.c[column.key] - bindparam("amount")}
    if "updated_at" in table.c:
        # A corrected counter is not an edit of the row.
        values["updated_at"] = table.c.updated_at
    await session.execute(
        update(table).where(table.c.id == bindparam("owner")).values(values),
        [{"owner": owner, "amount": amount} for owner, amount in amounts],
    )


async def _assets(session: AsyncSession, owned: ColumnElement[bool]) -> list[uuid.UUID]:
    """The assets `owned` selects and those derived from them (posters, thumbnails)."""
    sources = select(MediaAsset.id).where(owned)
    found = await session.scalars(
        select(MediaAsset.id).where(or_(owned, MediaAsset.source_id.in_(sources)))
    )
    return list(found)


async def _delete(session: AsyncSession, model: type[Any], ids: Ids) -> None:
    await session.execute(
        delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False)
    )
