"""The audit log: every moderator and admin action, written in the transaction of the
action, and read by staff newest first."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.errors import InvalidInput
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.models import AuditLogEntry
from dreamlust.moderation.repository import NEWEST_ENTRIES, AuditFilter, AuditRepository


async def record(
    session: AsyncSession,
    *,
    actor_id: uuid.UUID | None,
    action: str,
    target_type: str,
    target_id: uuid.UUID | None,
    details: dict[str, Any] | None = None,
) -> AuditLogEntry:
    """Write one entry; `actor_id` None for what the system did by itself."""
    entry = AuditLogEntry(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )
    session.add(entry)
    await session.flush()
    return entry


async def entries(
    session: AsyncSession, filters: AuditFilter, page: PageRequest, paginator: Paginator
) -> tuple[KeysetPage[AuditLogEntry], dict[uuid.UUID, str]]:
    """A page of entries, newest first, and the usernames of their actors."""
    if filters.since is not None and filters.until is not None and filters.until <= filters.since:
        raise InvalidInput("until must be later than since.", loc=("query", "until"))
    repository = AuditRepository(session)
    found = await repository.page(repository.entries(filters), NEWEST_ENTRIES, page, paginator)
    actors = {entry.actor_id for entry in found.items if entry.actor_id is not None}
    return found, await repository.usernames(actors)
