"""Comments as clients see them: a deleted comment kept for its replies shows neither its
text nor its author, and nor does a comment whose author's account is gone."""

from __future__ import annotations

from dreamlust.comments.schemas import CommentAuthor, CommentRead
from dreamlust.kit.pagination import KeysetPage
from dreamlust.kit.schemas import Page
from dreamlust.models import Comment


def present(comment: Comment) -> CommentRead:
    author = comment.author
    shown_author = author is not None and not author.is_deleted and not comment.is_deleted
    return CommentRead(
        id=comment.id,
        content_id=comment.content_id,
        parent_id=comment.parent_id,
        text=None if comment.is_deleted else comment.text,
        author=CommentAuthor.model_validate(author) if shown_author else None,
        like_count=comment.like_count,
        reply_count=comment.reply_count,
        is_edited=comment.is_edited,
        is_pinned=comment.is_pinned,
        is_deleted=comment.is_deleted,
        created_at=comment.created_at,
        updated_at=comment.updated_at,
        version=comment.version,
    )


def present_page(page: KeysetPage[Comment]) -> Page[CommentRead]:
    return Page[CommentRead](
        items=[present(comment) for comment in page.items], next_cursor=page.next_cursor
    )
