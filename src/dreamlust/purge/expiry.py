"""Which rows have been deleted long enough to be purged, and in which order they go.

A row is purgeable once its `deleted_at` is older than the cutoff (now minus the
retention). What belongs to a purgeable row goes with it, whatever its own state: the
content of a purgeable creator, the creator and playlists of a purgeable account. A row
is removed only after what depends on it: content before its creator, the creator before
its account, so that each batch deletes a bounded amount and corrects the counters of
what it deletes. A deleted comment stays while it has replies that are not purgeable
themselves: removing it would take live replies of other people with it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import aliased

from dreamlust.models import Category, Comment, Content, Creator, Playlist, User


def users(cutoff: datetime) -> ColumnElement[bool]:
    return and_(User.deleted_at.is_not(None), User.deleted_at < cutoff)


def creators(cutoff: datetime) -> ColumnElement[bool]:
    gone_accounts = select(User.id).where(users(cutoff))
    return or_(
        and_(Creator.deleted_at.is_not(None), Creator.deleted_at < cutoff),
        Creator.user_id.in_(gone_accounts),
    )


def content(cutoff: datetime) -> ColumnElement[bool]:
    gone_creators = select(Creator.id).where(creators(cutoff))
    return or_(
        and_(Content.deleted_at.is_not(None), Content.deleted_at < cutoff),
        Content.creator_id.in_(gone_creators),
    )


def playlists(cutoff: datetime) -> ColumnElement[bool]:
    gone_accounts = select(User.id).where(users(cutoff))
    return or_(
        and_(Playlist.deleted_at.is_not(None), Playlist.deleted_at < cutoff),
        Playlist.owner_id.in_(gone_accounts),
    )


def comments(cutoff: datetime) -> ColumnElement[bool]:
    reply = aliased(Comment)
    kept_reply = exists().where(
        reply.parent_id == Comment.id,
        or_(reply.deleted_at.is_(None), reply.deleted_at >= cutoff),
    )
    return and_(Comment.deleted_at.is_not(None), Comment.deleted_at < cutoff, ~kept_reply)


def categories(cutoff: datetime) -> ColumnElement[bool]:
    return and_(Category.deleted_at.is_not(None), Category.deleted_at < cutoff)


def comments_without_replies(cutoff: datetime) -> ColumnElement[bool]:
    """Purgeable comments whose replies are gone already (replies go first, so that each
    comment is removed by a batch of its own table and counted once)."""
    reply = aliased(Comment)
    return and_(comments(cutoff), ~exists().where(reply.parent_id == Comment.id))


def creators_without_content(cutoff: datetime) -> ColumnElement[bool]:
    """Purgeable creators whose content is gone already (the content goes first)."""
    return and_(creators(cutoff), ~exists().where(Content.creator_id == Creator.id))


def users_without_creator(cutoff: datetime) -> ColumnElement[bool]:
    """Purgeable accounts whose creator profile is gone already."""
    return and_(users(cutoff), ~exists().where(Creator.user_id == User.id))
