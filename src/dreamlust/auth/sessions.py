"""Sign-in sessions (refresh token families) as other domains need them."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.auth.repository import RefreshTokenRepository
from dreamlust.kit.clock import utcnow


async def revoke_all_sessions(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Sign the user out everywhere: no refresh token of theirs works any more."""
    await RefreshTokenRepository(session).revoke_all(user_id, utcnow())
