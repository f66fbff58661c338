"""Request and response models of comments."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from dreamlust.kit.schemas import Input, LongText, Schema


def _unix_newlines(value: object) -> object:
    """Text areas send CRLF line breaks; they are line breaks, not control characters."""
    return value.replace("\r\n", "\n") if isinstance(value, str) else value


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


# Trimmed, then 1 to 5000 characters; line breaks and tabs are fine, other control characters not.
CommentText = Annotated[LongText, AfterValidator(_not_blank), BeforeValidator(_unix_newlines)]


class CommentCreate(Input):
    text: CommentText
    parent_id: uuid.UUID | None = None


class CommentUpdate(Input):
    text: CommentText
    version: Annotated[int, Field(strict=True, ge=1)] | None = None


class CommentAuthor(Schema):
    username: str
    display_name: str | None
    avatar_url: str | None


class CommentRead(Schema):
    """A comment as anyone sees it; a deleted one kept for its replies has no text or author."""

    id: uuid.UUID
    content_id: uuid.UUID
    parent_id: uuid.UUID | None
    text: str | None
    author: CommentAuthor | None
    like_count: int
    reply_count: int
    is_edited: bool
    is_pinned: bool
    is_deleted: bool
    created_at: datetime
    updated_at: datetime
    version: int
