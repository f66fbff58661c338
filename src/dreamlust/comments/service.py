"""The rules of comments.

Threads are one level deep: a reply to a reply joins its top-level comment's thread.
`content.comment_count` counts an item's live comments, replies included, and
`comments.reply_count` a comment's live replies; both move in SQL with each comment that
comes, goes or comes back, so they stay exact however requests race. A deleted comment
that still has live replies stays in its list as a tombstone, without text or author.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.comments.repository import (
    OLDEST_FIRST,
    TOP_LEVEL,
    CommentRepository,
    TopLevelSort,
)
from dreamlust.comments.schemas import CommentCreate
from dreamlust.content import service as content_service
from dreamlust.content.visibility import Viewer
from dreamlust.errors import Conflict, Forbidden, InvalidInput, NotFound
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.kit.repository import expect_version, restore
from dreamlust.models import Comment, Content, User
from dreamlust.models.enums import NotificationType
from dreamlust.notifications import service as notifications


@dataclass(frozen=True)
class PlacedComment:
    """A comment together with the content it is on, as the viewer found them."""

    comment: Comment
    content: Content

    def is_by(self, viewer: Viewer) -> bool:
        return viewer.user_id is not None and self.comment.user_id == viewer.user_id

    def is_on_content_of(self, viewer: Viewer) -> bool:
        """Whether the viewer is the creator of the content (whose profile may be gone)."""
        creator = self.content.creator
        if viewer.user_id is None or creator is None:
            return False
        return creator.user_id == viewer.user_id


async def top_level(
    session: AsyncSession,
    content: Content,
    sort: TopLevelSort,
    page: PageRequest,
    paginator: Paginator,
) -> KeysetPage[Comment]:
    """The item's threads: the pinned comment first, then newest or most liked first."""
    repository = CommentRepository(session)
    return await repository.page(repository.top_level(content.id), TOP_LEVEL[sort], page, paginator)


async def replies(
    session: AsyncSession, parent: Comment, page: PageRequest, paginator: Paginator
) -> KeysetPage[Comment]:
    repository = CommentRepository(session)
    return await repository.page(repository.replies(parent.id), OLDEST_FIRST, page, paginator)


async def locate(
    session: AsyncSession, comment_id: uuid.UUID, viewer: Viewer, *, tombstones: bool = False
) -> PlacedComment:
    """A live comment (or, with `tombstones`, a deleted one still listed for its replies)
    on content the viewer may see; 404 otherwise."""
    comment = await CommentRepository(session).by_id(comment_id, include_deleted=tombstones)
    if comment is None or (comment.is_deleted and comment.reply_count == 0):
        raise NotFound("No such comment.")
    content = await content_service.viewable(session, comment.content_id, viewer)
    return PlacedComment(comment, content)


async def for_moderation(session: AsyncSession, comment_id: uuid.UUID) -> Comment | None:
    """The comment, deleted or not, for a moderation decision."""
    return await CommentRepository(session).by_id(comment_id, include_deleted=True)


async def create(
    session: AsyncSession, author: User, content: Content, data: CommentCreate
) -> Comment:
    if not content.allow_comments:
        raise Forbidden("Comments are turned off for this content.")
    repository = CommentRepository(session)
    replied_to = await _replied_to(repository, content, data.parent_id) if data.parent_id else None
    # A reply goes under the top-level comment of its thread.
    parent_id = (replied_to.parent_id or replied_to.id) if replied_to else None
    replied_author = replied_to.user_id if replied_to else None
    comment = Comment(content_id=content.id, user_id=author.id, parent_id=parent_id, text=data.text)
    comment.author = author
    await repository.add(comment)
    await repository.count_comments(content.id, +1)
    if parent_id is not None:
        await repository.count_replies(parent_id, +1)
    await _notify(session, author, content, comment, replied_author)
    return comment


async def _notify(
    session: AsyncSession,
    author: User,
    content: Content,
    comment: Comment,
    replied_author: uuid.UUID | None,
) -> None:
    """The creator hears of a comment on their content; the author of the comment
    replied to, of the reply."""
    who = author.display_name or author.username
    link = f"/content/{content.id}?comment={comment.id}"
    details = {"content_id": str(content.id), "comment_id": str(comment.id)}
    owner_id = content.creator.user_id
    await notifications.emit(
        session,
        notifications.to_user(
            NotificationType.NEW_COMMENT,
            owner_id,
            actor_id=author.id,
            title=f"{who} commented on {content.title}",
            link=link,
            details=details,
        ),
    )
    if replied_author is not None and replied_author != owner_id:
        await notifications.emit(
            session,
            notifications.to_user(
                NotificationType.NEW_REPLY,
                replied_author,
                actor_id=author.id,
                title=f"{who} replied to your comment",
                link=link,
                details=details,
            ),
        )


async def edit(
    session: AsyncSession,
    viewer: Viewer,
    placed: PlacedComment,
    text: str,
    *,
    expected_version: int,
) -> Comment:
    if not placed.is_by(viewer):
        raise Forbidden("Only its author can edit a comment.")
    comment = placed.comment
    expect_version(comment, expected_version)
    if text != comment.text:
        await CommentRepository(session).update(comment, {"text": text, "is_edited": True})
    return comment


async def delete(session: AsyncSession, viewer: Viewer, placed: PlacedComment) -> None:
    """Soft-delete: by its author, the content's creator or staff."""
    if not (viewer.is_staff or placed.is_by(viewer) or placed.is_on_content_of(viewer)):
        raise Forbidden("Only its author, the content's creator or staff can delete a comment.")
    comment = placed.comment
    repository = CommentRepository(session)
    await repository.lock_content(comment.content_id)
    if not await repository.mark_deleted(comment.id, utcnow()):
        raise NotFound("No such comment.")
    await _count(repository, comment, -1)


async def restore_deleted(
    session: AsyncSession, comment_id: uuid.UUID, viewer: Viewer, *, retention: timedelta
) -> Comment:
    """Bring back a comment deleted within the retention period (staff only)."""
    repository = CommentRepository(session)
    comment = await repository.by_id(comment_id, include_deleted=True)
    if comment is None:
        raise NotFound("No such comment.")
    await content_service.viewable(session, comment.content_id, viewer)
    await repository.lock_content(comment.content_id)
    await restore(session, comment, retention=retention, what="The comment")
    await _count(repository, comment, +1)
    return comment


async def pin(session: AsyncSession, viewer: Viewer, placed: PlacedComment) -> Comment:
    """Make this the item's one pinned comment, unpinning the one before."""
    _check_pinnable(viewer, placed)
    repository = CommentRepository(session)
    await repository.lock_content(placed.content.id)  # concurrent pins queue here
    await repository.unpin_all(placed.content.id)
    if not await repository.set_pinned(placed.comment.id, True):
        raise NotFound("No such comment.")
    return await repository.reload(placed.comment)


async def unpin(session: AsyncSession, viewer: Viewer, placed: PlacedComment) -> Comment:
    _check_pinnable(viewer, placed)
    repository = CommentRepository(session)
    if not await repository.set_pinned(placed.comment.id, False):
        raise NotFound("No such comment.")
    return await repository.reload(placed.comment)


def _check_pinnable(viewer: Viewer, placed: PlacedComment) -> None:
    if not placed.is_on_content_of(viewer):
        raise Forbidden("Only the content's creator can pin comments.")
    if placed.comment.parent_id is not None:
        raise Conflict("Only top-level comments can be pinned.")


async def _replied_to(
    repository: CommentRepository, content: Content, parent_id: uuid.UUID
) -> Comment:
    """The live comment on this content that a reply answers."""
    parent = await repository.by_id(parent_id)
    if parent is None or parent.content_id != content.id:
        raise InvalidInput(
            "parent_id must name a comment on this content that is not deleted.",
            loc=("body", "parent_id"),
        )
    return parent


async def _count(repository: CommentRepository, comment: Comment, delta: int) -> None:
    """A comment went (-1) or came back (+1): its item's and its parent's counts follow."""
    await repository.count_comments(comment.content_id, delta)
    if comment.parent_id is not None:
        await repository.count_replies(comment.parent_id, delta)
