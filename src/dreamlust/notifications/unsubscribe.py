"""One-click unsubscribe (RFC 8058): each notification e-mail carries a signed link that
stops the e-mails of its type for its recipient, without signing in. The token names
the account and the setting; it does not expire, as mail is read long after it is sent."""

from __future__ import annotations

import uuid

import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.errors import BadRequest, NotFound
from dreamlust.kit.keys import derive_key
from dreamlust.notifications.kinds import TOPICS
from dreamlust.users.preferences import Preferences
from dreamlust.users.repository import UserRepository

_ALGORITHM = "HS256"
_TYPE = "unsubscribe"


class UnsubscribeTokens:
    def __init__(self, secret: bytes) -> None:
        self._key = derive_key(secret, "unsubscribe")

    def issue(self, user_id: uuid.UUID, setting: str) -> str:
        claims = {"sub": str(user_id), "setting": setting, "typ": _TYPE}
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    def read(self, token: str) -> tuple[uuid.UUID, str]:
        """The account and the setting a token names; a 400 for anything else."""
        try:
            claims = jwt.decode(
                token, self._key, algorithms=[_ALGORITHM], options={"require": ["sub", "typ"]}
            )
            setting = str(claims["setting"])
            if claims["typ"] != _TYPE or setting not in TOPICS:
                raise jwt.InvalidTokenError("not an unsubscribe token")
            return uuid.UUID(claims["sub"]), setting
        except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
            raise BadRequest("The unsubscribe link is invalid.") from exc


async def stop_emails(session: AsyncSession, user_id: uuid.UUID, setting: str) -> Preferences:
    """Turn e-mail off for one setting, keeping in-app delivery as it was (again:
    nothing changes). A concurrent change of the account is a 409 (`version`), never
    overwritten."""
    user = await UserRepository(session).get(user_id)
    if user is None:
        raise NotFound("No such account.")
    preferences = Preferences.of(user.preferences)
    current = getattr(preferences.notifications, setting)
    preferences.notifications = preferences.notifications.model_copy(
        update={setting: current.without_email()}
    )
    user.preferences = preferences.model_dump(mode="json")
    await session.flush()
    return preferences
