"""Access tokens (short-lived JWTs) and their claims: issued by sign-in, read by every
request that says who it is, by the rate limits and by the live stream."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from dreamlust.errors import Unauthorized
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.kit.keys import derive_key
from dreamlust.models import User
from dreamlust.models.enums import UserRole

ALGORITHM = "HS256"
ISSUER = "dreamlust"
_REQUIRED_CLAIMS = ["sub", "role", "exp", "iat", "jti", "iss", "typ"]


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    role: UserRole
    issued_at: datetime
    expires_at: datetime
    token_id: str


class AccessTokens:
    def __init__(self, secret: bytes, lifetime: timedelta) -> None:
        self._key = derive_key(secret, "access-token")
        self.lifetime = lifetime

    def issue(self, user: User) -> str:
        now = utcnow()
        claims = {
            "sub": str(user.id),
            "role": user.role.value,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": new_id().hex,
            "iss": ISSUER,
            "typ": "access",
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def decode(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": _REQUIRED_CLAIMS},
            )
            if claims["typ"] != "access":
                raise jwt.InvalidTokenError("not an access token")
            return AccessClaims(
                user_id=uuid.UUID(claims["sub"]),
                role=UserRole(claims["role"]),
                issued_at=datetime.fromtimestamp(claims["iat"], tz=utcnow().tzinfo),
                expires_at=datetime.fromtimestamp(claims["exp"], tz=utcnow().tzinfo),
                token_id=str(claims["jti"]),
            )
        except (jwt.InvalidTokenError, ValueError, KeyError) as exc:
            raise Unauthorized("The access token is invalid or has expired.") from exc
