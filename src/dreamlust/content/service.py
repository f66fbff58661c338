"""Rules for content items."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.repository import ContentRepository
from dreamlust.kit.repository import expect_version, restore, soft_delete
from dreamlust.models import Content


async def update_content(
    session: AsyncSession, content: Content, changes: dict[str, Any], *, expected_version: int
) -> Content:
    """Apply `changes` if the caller saw the current version; the version then goes up by one."""
    expect_version(content, expected_version)
    return await ContentRepository(session).update(content, changes)


async def delete_content(session: AsyncSession, content: Content) -> None:
    await soft_delete(session, content)


async def restore_content(session: AsyncSession, content: Content) -> None:
    await restore(session, content)
