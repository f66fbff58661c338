"""What can be reported: content, comments, user accounts and creator profiles, found as
the reporter may see them, with the account each belongs to and a snapshot to keep."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.comments import service as comments
from dreamlust.comments.service import PlacedComment
from dreamlust.content import service as content_service
from dreamlust.content.visibility import Viewer
from dreamlust.creators import service as creators
from dreamlust.kit.clock import utcnow
from dreamlust.models import Content, Creator, User
from dreamlust.models.enums import ReportTargetType
from dreamlust.users import service as users


@dataclass(frozen=True)
class Target:
    """A reported thing as the reporter found it. `owner_id` is the account it is, or
    belongs to (content's creator, a comment's author); `content` the item itself when
    the target is content."""

    type: ReportTargetType
    id: uuid.UUID
    owner_id: uuid.UUID | None
    snapshot: dict[str, Any]
    content: Content | None = None


async def locate(
    session: AsyncSession, target_type: ReportTargetType, target_id: uuid.UUID, viewer: Viewer
) -> Target:
    """The target if this viewer may see it; 404 otherwise, as for any other read."""
    assert viewer.user is not None
    if target_type is ReportTargetType.CONTENT:
        return _content(await content_service.viewable(session, target_id, viewer))
    if target_type is ReportTargetType.COMMENT:
        return _comment(await comments.locate(session, target_id, viewer))
    if target_type is ReportTargetType.USER:
        return _user(await users.public_account(session, target_id))
    return _creator(await creators.visible_profile(session, target_id, viewer.user))


async def owner_of(
    session: AsyncSession, target_type: ReportTargetType, target_id: uuid.UUID
) -> uuid.UUID | None:
    """The account a target is or belongs to, deleted or not; None when the target, or
    its author, is gone for good."""
    if target_type is ReportTargetType.USER:
        return target_id
    if target_type is ReportTargetType.CONTENT:
        content = await content_service.for_moderation(session, target_id)
        return content.creator.user_id if content is not None else None
    if target_type is ReportTargetType.COMMENT:
        comment = await comments.for_moderation(session, target_id)
        return comment.user_id if comment is not None else None
    creator = await creators.for_moderation(session, target_id)
    return creator.user_id if creator is not None else None


def _snapshot(**fields: Any) -> dict[str, Any]:
    return {**fields, "taken_at": utcnow().isoformat()}


def _content(content: Content) -> Target:
    creator = content.creator
    return Target(
        ReportTargetType.CONTENT,
        content.id,
        creator.user_id,
        _snapshot(
            title=content.title,
            text=content.description,
            author_id=str(creator.user_id),
            author=creator.handle,
            media={"media_url": content.media_url, "thumbnail_url": content.thumbnail_url},
            content_type=content.type.value,
            creator_id=str(creator.id),
            is_nsfw=content.is_nsfw,
        ),
        content=content,
    )


def _comment(placed: PlacedComment) -> Target:
    comment, author = placed.comment, placed.comment.author
    return Target(
        ReportTargetType.COMMENT,
        comment.id,
        comment.user_id,
        _snapshot(
            title=placed.content.title,
            text=comment.text,
            author_id=str(comment.user_id) if comment.user_id is not None else None,
            author=author.username if author is not None else None,
            media=None,
            content_id=str(placed.content.id),
            parent_id=str(comment.parent_id) if comment.parent_id is not None else None,
        ),
    )


def _user(user: User) -> Target:
    return Target(
        ReportTargetType.USER,
        user.id,
        user.id,
        _snapshot(
            title=user.display_name,
            text=user.bio,
            author_id=str(user.id),
            author=user.username,
            media={"avatar_url": user.avatar_url},
            location=user.location,
            website=user.website,
        ),
    )


def _creator(creator: Creator) -> Target:
    return Target(
        ReportTargetType.CREATOR,
        creator.id,
        creator.user_id,
        _snapshot(
            title=creator.display_name,
            text=creator.bio,
            author_id=str(creator.user_id),
            author=creator.handle,
            media={"avatar_url": creator.avatar_url, "banner_url": creator.banner_url},
            location=creator.location,
            website=creator.website,
        ),
    )
