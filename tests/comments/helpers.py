"""What the comment tests share: a commentable item with its owner, and the API calls."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import Comment, Content, User
from dreamlust.models.enums import UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content, make_creator

API = "/api/v1"


@dataclass(frozen=True)
class Item:
    """A published item and the account of the creator who owns it."""

    content: Content
    owner: User
    owner_headers: dict[str, str]

    @property
    def comments(self) -> str:
        return f"{API}/content/{self.content.id}/comments"


async def make_item(session: AsyncSession, runtime: Runtime, **fields: Any) -> Item:
    owner = await make_account(session, role=UserRole.CREATOR, is_creator=True)
    content = await make_content(session, await make_creator(session, user=owner), **fields)
    await session.commit()
    return Item(content, owner, headers_for(runtime, owner))


async def make_commenter(session: AsyncSession, runtime: Runtime, **fields: Any) -> dict[str, str]:
    return headers_for(runtime, await make_account(session, **fields))


async def post(
    client: httpx.AsyncClient,
    item: Item,
    headers: dict[str, str],
    text: str,
    parent_id: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"text": text}
    if parent_id is not None:
        body["parent_id"] = parent_id
    response = await client.post(item.comments, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def texts(client: httpx.AsyncClient, path: str, **params: str) -> list[str | None]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [item["text"] for item in response.json()["items"]]


async def assert_counts_exact(session: AsyncSession, content_id: uuid.UUID) -> int:
    """The item's comment_count equals its live comments (replies included) and every
    comment's reply_count its live replies, all counted from the rows; the live count."""
    live = await session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(Comment.content_id == content_id, Comment.deleted_at.is_(None))
        .execution_options(**{INCLUDE_DELETED: True})
    )
    stored = await session.scalar(select(Content.comment_count).where(Content.id == content_id))
    reply = aliased(Comment)
    live_replies = (
        select(func.count())
        .select_from(reply)
        .where(reply.parent_id == Comment.id, reply.deleted_at.is_(None))
        .scalar_subquery()
    )
    threads = (
        await session.execute(
            select(Comment.id, Comment.reply_count, live_replies)
            .where(Comment.content_id == content_id)
            .execution_options(**{INCLUDE_DELETED: True})
        )
    ).all()
    await session.commit()
    assert stored == live, f"comment_count {stored}, live comments {live}"
    for comment_id, reply_count, counted in threads:
        assert reply_count == counted, f"{comment_id}: reply_count {reply_count}, live {counted}"
    return int(live or 0)
