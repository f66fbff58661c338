"""Access tokens (short-lived JWTs) and their claims: issued by sign-in, read by every
request that says who it is, by the rate limits and by the live stream.

A token is refused before it expires when its account signed out, reset its password,
was deleted, suspended or banned, or had its role changed by an administrator after it
was issued: each of these sets the account's `tokens_valid_after` to the moment it
happened (`dreamlust.auth.sessions`), and a token issued before that moment is refused
like a forged one. The account is read on every request anyway, so the check costs no
query. Other devices get new tokens from their refresh tokens, unless those were
revoked too.

The moment a token was issued is compared exactly. The standard `iat` claim is whole
seconds, too coarse: compared in seconds, either a token issued earlier in a sign-out's
second would pass or one issued later in it would be refused. So each token also
carries `iat_us`, its issue time in integer microseconds since the epoch, the
resolution of the stored mark on both databases; integers survive JSON unrounded, where
a fractional `iat` would not. A token is refused when it was issued strictly before the
mark: the token that asks to sign out was handed out before that request began, and one
issued at the mark's very microsecond can only come from a sign-in that raced it. A
token without `iat_us` (issued by an earlier release) is read at its `iat`, the start of
its second, so in doubt it counts as issued before the mark. The mark and the issue
times come from the servers' clocks: a server whose clock lags another's by a moment
may issue tokens right after a sign-out elsewhere that count as older; they are
refused, and the client refreshes once more.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from dreamlust.errors import Unauthorized
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.kit.keys import derive_key
from dreamlust.models import User
from dreamlust.models.enums import UserRole

ALGORITHM = "HS256"
ISSUER = "dreamlust"
REFUSED_DETAIL = "The access token is invalid or has expired."
# The issue time in microseconds since the epoch: `iat` with the resolution of the mark.
ISSUED_MICROSECONDS = "iat_us"
_REQUIRED_CLAIMS = ["sub", "role", "exp", "iat", "jti", "iss", "typ"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def microseconds_since_epoch(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    role: UserRole
    issued_at: datetime
    expires_at: datetime
    token_id: str

    def revoked_for(self, user: User) -> bool:
        """Whether the account ended its tokens after this one was issued."""
        mark = user.tokens_valid_after
        return mark is not None and self.issued_at < mark


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
            ISSUED_MICROSECONDS: microseconds_since_epoch(now),
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
                issued_at=_issued_at(claims),
                expires_at=datetime.fromtimestamp(claims["exp"], tz=UTC),
                token_id=str(claims["jti"]),
            )
        except (jwt.InvalidTokenError, ValueError, KeyError, OverflowError) as exc:
            raise Unauthorized(REFUSED_DETAIL) from exc


def _issued_at(claims: dict[str, Any]) -> datetime:
    """The exact issue time; the start of the `iat` second for a token without one."""
    microseconds = claims.get(ISSUED_MICROSECONDS)
    if microseconds is None:
        return datetime.fromtimestamp(int(claims["iat"]), tz=UTC)
    if type(microseconds) is not int:
        raise jwt.InvalidTokenError(f"{ISSUED_MICROSECONDS} is not an integer")
    return _EPOCH + microseconds * _MICROSECOND
