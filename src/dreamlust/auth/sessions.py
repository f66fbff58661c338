"""Ending sign-in sessions (refresh token families) and access tokens, as the domains
that sign an account out or change its rights need it."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.auth.repository import AccessTokenMarkRepository, RefreshTokenRepository
from dreamlust.kit.clock import utcnow


async def end_access_tokens(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Refuse every access token of the user issued until now; their sign-in sessions
    stay, so each device gets a new access token by refreshing."""
    await AccessTokenMarkRepository(session).refuse_issued_before(user_id, utcnow())


async def revoke_all_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Sign the user out everywhere: no refresh token of theirs works any more, nor any
    access token issued until now."""
    now = utcnow()
    await RefreshTokenRepository(session).revoke_all(user_id, now)
    await AccessTokenMarkRepository(session).refuse_issued_before(user_id, now)
