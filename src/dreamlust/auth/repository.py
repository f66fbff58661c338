"""Every query on refresh tokens, e-mail tokens and the mark that ends access tokens.

Consuming a token is a single conditional UPDATE … RETURNING, so of any number of
concurrent requests presenting the same token exactly one wins.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.kit.clock import utcnow
from dreamlust.kit.keys import hash_token, new_opaque_token
from dreamlust.models import EmailToken, RefreshToken, User
from dreamlust.models.enums import EmailTokenPurpose


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def issue(
        self,
        user_id: uuid.UUID,
        *,
        family_id: uuid.UUID,
        lifetime: timedelta,
        user_agent: str | None,
    ) -> str:
        token = new_opaque_token()
        self.session.add(
            RefreshToken(
                user_id=user_id,
                family_id=family_id,
                token_hash=hash_token(token),
                expires_at=utcnow() + lifetime,
                user_agent=user_agent,
            )
        )
        await self.session.flush()
        return token

    async def rotate(self, token: str, now: datetime) -> RefreshToken | None:
        """Mark a live token as used; None when it is unknown, used, revoked or expired."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == hash_token(token),
                RefreshToken.rotated_at.is_(None),
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(rotated_at=now)
            .returning(RefreshToken)
        )
        return result.scalar_one_or_none()

    async def find(self, token: str) -> RefreshToken | None:
        return await self.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == hash_token(token))
        )

    async def revoke_family(self, family_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_all(self, user_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )


class AccessTokenMarkRepository:
    """The account's `tokens_valid_after`: its access tokens issued before it are refused."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def refuse_issued_before(self, user_id: uuid.UUID, moment: datetime) -> None:
        """Move the mark up to `moment`, never back (of two sign-outs whose transactions
        commit in the other order, the later mark stays). Not an edit of the account: the
        row version stays, so a concurrent profile update does not fail over it."""
        await self.session.execute(
            update(User)
            .where(
                User.id == user_id,
                or_(User.tokens_valid_after.is_(None), User.tokens_valid_after < moment),
            )
            .values(tokens_valid_after=moment)
        )


class EmailTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def issue(
        self, user_id: uuid.UUID, purpose: EmailTokenPurpose, lifetime: timedelta
    ) -> str:
        token = new_opaque_token()
        self.session.add(
            EmailToken(
                user_id=user_id,
                purpose=purpose,
                token_hash=hash_token(token),
                expires_at=utcnow() + lifetime,
            )
        )
        await self.session.flush()
        return token

    async def consume(
        self, token: str, purpose: EmailTokenPurpose, now: datetime
    ) -> uuid.UUID | None:
        """Use a live token once; the owner's id, or None when it is not usable."""
        result = await self.session.execute(
            update(EmailToken)
            .where(
                EmailToken.token_hash == hash_token(token),
                EmailToken.purpose == purpose,
                EmailToken.used_at.is_(None),
                EmailToken.expires_at > now,
            )
            .values(used_at=now)
            .returning(EmailToken.user_id)
        )
        return result.scalar_one_or_none()

    async def spend_all(
        self, user_id: uuid.UUID, purpose: EmailTokenPurpose, now: datetime
    ) -> None:
        """Make every outstanding token of this purpose unusable (after one was used)."""
        await self.session.execute(
            update(EmailToken)
            .where(
                EmailToken.user_id == user_id,
                EmailToken.purpose == purpose,
                EmailToken.used_at.is_(None),
            )
            .values(used_at=now)
        )
