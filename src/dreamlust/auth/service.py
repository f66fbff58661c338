"""The rules of signing up, signing in, rotating tokens and proving an e-mail address."""

from __future__ import annotations

import uuid
from datetime import timedelta
from functools import cache
from urllib.parse import urlencode

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.access_tokens import AccessTokens
from dreamlust.auth.password_policy import check_password
from dreamlust.auth.passwords import (
    hash_password,
    hash_password_sync,
    needs_rehash,
    verify_password,
)
from dreamlust.auth.repository import EmailTokenRepository, RefreshTokenRepository
from dreamlust.auth.schemas import Credentials, Registration, TokenPair
from dreamlust.auth.sessions import end_access_tokens, revoke_all_sessions
from dreamlust.config import Settings
from dreamlust.errors import BadRequest, Conflict, Forbidden, Unauthorized
from dreamlust.kit.after_commit import after_commit
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.mail import Mailer, password_reset_mail, verification_mail
from dreamlust.models import User
from dreamlust.models.enums import EmailTokenPurpose, UserStatus
from dreamlust.users import service as users
from dreamlust.users.repository import UserRepository

INVALID_CREDENTIALS = "The login or password is incorrect."
REFRESH_REFUSED = "The refresh token is invalid, expired or already used; sign in again."
_BLOCKED = {UserStatus.SUSPENDED: "suspended", UserStatus.BANNED: "banned"}


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so both take as long."""
    return hash_password_sync(new_id().hex)


class InvalidToken(BadRequest):
    slug = "invalid-token"


def blocked_reason(user: User) -> str | None:
    """Why this account may not act at all (suspended or banned), or None."""
    return _BLOCKED.get(user.status)


class AuthService:
    def __init__(
        self, session: AsyncSession, settings: Settings, tokens: AccessTokens, mailer: Mailer
    ) -> None:
        self.session = session
        self.settings = settings
        self.tokens = tokens
        self.mailer = mailer
        self.users = UserRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)
        self.email_tokens = EmailTokenRepository(session)

    async def register(self, registration: Registration) -> User:
        check_password(
            registration.password, username=registration.username, email=registration.email
        )
        if await self.users.login_taken(registration.email, registration.username):
            raise Conflict("That e-mail address or username is unavailable.")
        user = await users.create_user(
            self.session,
            users.NewUser(
                email=registration.email,
                username=registration.username,
                password_hash=await hash_password(registration.password),
                birth_date=registration.birth_date,
            ),
        )
        await self._send_verification(user)
        return user

    async def login(self, credentials: Credentials, user_agent: str | None) -> TokenPair:
        user = await self.users.by_login(credentials.login)
        if user is None:
            await verify_password(_dummy_hash(), credentials.password)
            raise Unauthorized(INVALID_CREDENTIALS)
        if not await verify_password(user.password_hash, credentials.password):
            raise Unauthorized(INVALID_CREDENTIALS)
        if reason := blocked_reason(user):
            raise Forbidden(f"This account is {reason}.")
        await self._record_login(user, credentials.password)
        return await self._issue_pair(user, family_id=new_id(), user_agent=user_agent)

    async def refresh(self, token: str, user_agent: str | None) -> TokenPair | None:
        """A new pair for a live refresh token; None when refused.

        Presenting a token that was already rotated means it leaked (or a client raced
        itself): its whole family is revoked, the newest token included, and so are the
        account's access tokens issued until now, one of which whoever holds the leaked
        token may have got (other devices refresh into new ones). The revocation must be
        committed even though the request is refused, so this returns None instead of
        raising.
        """
        now = utcnow()
        rotated = await self.refresh_tokens.rotate(token, now)
        if rotated is None:
            presented = await self.refresh_tokens.find(token)
            if presented is not None and presented.rotated_at is not None:
                await self.refresh_tokens.revoke_family(presented.family_id, now)
                await end_access_tokens(self.session, presented.user_id)
            return None
        user = await self.users.get(rotated.user_id)
        if user is None or blocked_reason(user):
            await self.refresh_tokens.revoke_family(rotated.family_id, now)
            return None
        return await self._issue_pair(user, family_id=rotated.family_id, user_agent=user_agent)

    async def logout(self, user: User, token: str) -> None:
        """End this sign-in session (the refresh token's family) and every access token
        of the account issued until now, the caller's included; the account's other
        sign-in sessions stay and refresh into new access tokens."""
        presented = await self.refresh_tokens.find(token)
        if presented is not None and presented.user_id == user.id:
            await self.refresh_tokens.revoke_family(presented.family_id, utcnow())
        await end_access_tokens(self.session, user.id)

    async def verify_email(self, token: str) -> User:
        now = utcnow()
        user_id = await self.email_tokens.consume(token, EmailTokenPurpose.VERIFY_EMAIL, now)
        user = await self.users.get(user_id) if user_id else None
        if user is None:
            raise InvalidToken("The verification link is invalid or has expired.")
        if not user.email_verified:
            user.email_verified = True
            user.email_verified_at = now
        await self.email_tokens.spend_all(user.id, EmailTokenPurpose.VERIFY_EMAIL, now)
        await self.session.flush()
        return user

    async def resend_verification(self, user: User) -> None:
        if not user.email_verified:
            await self._send_verification(user)

    async def request_password_reset(self, email: str) -> None:
        """Mail a reset link if the address belongs to an account; say nothing either way."""
        user = await self.users.by_email(email)
        if user is None or blocked_reason(user):
            return
        minutes = self.settings.password_reset_minutes
        token = await self.email_tokens.issue(
            user.id, EmailTokenPurpose.RESET_PASSWORD, timedelta(minutes=minutes)
        )
        mail = password_reset_mail(
            user.email, user.username, self._link("reset-password", token), minutes
        )
        after_commit(self.session, lambda: self.mailer.send(mail))

    async def reset_password(self, token: str, new_password: str) -> None:
        now = utcnow()
        user_id = await self.email_tokens.consume(token, EmailTokenPurpose.RESET_PASSWORD, now)
        user = await self.users.get(user_id) if user_id else None
        if user is None or blocked_reason(user):
            raise InvalidToken("The reset link is invalid or has expired.")
        check_password(new_password, username=user.username, email=user.email, field="new_password")
        user.password_hash = await hash_password(new_password)
        await self.email_tokens.spend_all(user.id, EmailTokenPurpose.RESET_PASSWORD, now)
        await revoke_all_sessions(self.session, user.id)
        await self.session.flush()

    async def _record_login(self, user: User, password: str) -> None:
        """Note the sign-in (and upgrade an outdated hash) without bumping the row version:
        signing in is not an edit, so it must not fail a concurrent profile update."""
        values: dict[str, object] = {"last_login_at": utcnow()}
        if needs_rehash(user.password_hash):
            values["password_hash"] = await hash_password(password)
        if user.status is UserStatus.INACTIVE:
            values["status"] = UserStatus.ACTIVE
        await self.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(**values)
            .execution_options(synchronize_session="fetch")
        )

    async def _issue_pair(
        self, user: User, *, family_id: uuid.UUID, user_agent: str | None
    ) -> TokenPair:
        refresh_token = await self.refresh_tokens.issue(
            user.id,
            family_id=family_id,
            lifetime=timedelta(days=self.settings.refresh_token_days),
            user_agent=user_agent[:512] if user_agent else None,
        )
        return TokenPair(
            access_token=self.tokens.issue(user),
            refresh_token=refresh_token,
            expires_in=int(self.tokens.lifetime.total_seconds()),
        )

    async def _send_verification(self, user: User) -> None:
        token = await self.email_tokens.issue(
            user.id,
            EmailTokenPurpose.VERIFY_EMAIL,
            timedelta(hours=self.settings.email_verification_hours),
        )
        mail = verification_mail(user.email, user.username, self._link("verify-email", token))
        after_commit(self.session, lambda: self.mailer.send(mail))

    def _link(self, page: str, token: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/{page}?{urlencode({'token': token})}"
