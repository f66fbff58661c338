"""Every query on comments.

Counters move by `col = col + delta` in SQL, and only when a comment really came, went or
came back. Every write that moves a counter first locks the content row (its counter
update, or the pin's lock), so writers on one item's comments queue in one order and
never deadlock: the content row, then the comment rows.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import joinedload

from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.repository import Repository
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import Comment, Content

TopLevelSort = Literal["newest", "top"]

# The pinned comment leads every top-level list; being a sort key, it appears once only.
TOP_LEVEL: dict[TopLevelSort, Ordering] = {
    "newest": Ordering(
        scope="comments:newest",
        keys=(
            SortKey(Comment.is_pinned),
            SortKey(Comment.created_at),
            SortKey(Comment.id),
        ),
    ),
    "top": Ordering(
        scope="comments:top",
        keys=(
            SortKey(Comment.is_pinned),
            SortKey(Comment.like_count),
            SortKey(Comment.created_at),
            SortKey(Comment.id),
        ),
    ),
}
OLDEST_FIRST = Ordering(
    scope="comments:replies",
    keys=(SortKey(Comment.created_at, descending=False), SortKey(Comment.id, descending=False)),
)
WITH_AUTHOR = (joinedload(Comment.author),)


class CommentRepository(Repository[Comment]):
    model = Comment

    async def by_id(
        self, comment_id: uuid.UUID, *, include_deleted: bool = False
    ) -> Comment | None:
        return await self.get(comment_id, include_deleted=include_deleted, options=WITH_AUTHOR)

    async def reload(self, comment: Comment) -> Comment:
        """The comment as stored now, after counter or pin updates made in SQL."""
        stored = await self.session.get(
            Comment, comment.id, options=WITH_AUTHOR, populate_existing=True
        )
        assert stored is not None
        return stored

    def top_level(self, content_id: uuid.UUID) -> Select[Comment]:
        """The item's top-level comments: the live ones, and the deleted ones that still
        have live replies (shown as tombstones)."""
        return (
            self.select()
            .where(
                Comment.content_id == content_id,
                Comment.parent_id.is_(None),
                or_(Comment.deleted_at.is_(None), Comment.reply_count > 0),
            )
            .options(*WITH_AUTHOR)
            .execution_options(**{INCLUDE_DELETED: True})
        )

    def replies(self, parent_id: uuid.UUID) -> Select[Comment]:
        return self.select().where(Comment.parent_id == parent_id).options(*WITH_AUTHOR)

    async def count_comments(self, content_id: uuid.UUID, delta: int) -> None:
        await self.session.execute(
            update(Content)
            .where(Content.id == content_id)
            .values(comment_count=Content.comment_count + delta)
            .execution_options(synchronize_session=False)
        )

    async def count_replies(self, parent_id: uuid.UUID, delta: int) -> None:
        """Move a comment's reply count; not an edit of the comment, so not a new version."""
        await self.session.execute(
            update(Comment)
            .where(Comment.id == parent_id)
            .values(reply_count=Comment.reply_count + delta)
            .execution_options(synchronize_session=False)
        )

    async def mark_deleted(self, comment_id: uuid.UUID, now: datetime) -> bool:
        """Soft-delete a live comment (and unpin it); False when it was already gone."""
        deleted = await self.session.execute(
            update(Comment)
            .where(Comment.id == comment_id, Comment.deleted_at.is_(None))
            .values(deleted_at=now, is_pinned=False, version=Comment.version + 1)
            .returning(Comment.id)
            .execution_options(synchronize_session=False)
        )
        return deleted.first() is not None

    async def lock_content(self, content_id: uuid.UUID) -> None:
        """Hold the content row until the transaction ends (PostgreSQL; SQLite writers
        already hold the database's write lock)."""
        await self.session.execute(
            select(Content.id).where(Content.id == content_id).with_for_update(key_share=True)
        )

    async def unpin_all(self, content_id: uuid.UUID) -> None:
        await self.session.execute(
            update(Comment)
            .where(Comment.content_id == content_id, Comment.is_pinned.is_(True))
            .values(is_pinned=False)
            .execution_options(synchronize_session=False)
        )

    async def set_pinned(self, comment_id: uuid.UUID, pinned: bool) -> bool:
        """Pin or unpin a live top-level comment (not an edit: no new version); False when
        there is no such comment any more."""
        changed = await self.session.execute(
            update(Comment)
            .where(
                Comment.id == comment_id,
                Comment.parent_id.is_(None),
                Comment.deleted_at.is_(None),
            )
            .values(is_pinned=pinned)
            .returning(Comment.id)
            .execution_options(synchronize_session=False)
        )
        return changed.first() is not None
