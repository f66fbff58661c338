"""Forged, altered, expired, misdirected, orphaned and revoked access tokens are all a 401.

Each bad token is sent to a route that needs a signed-in user and to a public route that
serves anonymous callers too: there, a bad token must not quietly read as anonymous
(`optional_user`: "a bad token is still a 401"). Access tokens are JWTs that live
`DREAMLUST_ACCESS_TOKEN_MINUTES`; the account behind a token is read on every request,
so banned and deleted accounts stop at once, and so does a token issued before the
account's `tokens_valid_after` mark, to the microsecond (here; the sign-outs, resets and
other changes that set the mark are in tests/auth/test_token_revocation.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.access_tokens import (
    ALGORITHM,
    ISSUED_MICROSECONDS,
    ISSUER,
    REFUSED_DETAIL,
    microseconds_since_epoch,
)
from dreamlust.config import Settings
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.kit.keys import derive_key
from dreamlust.models import User
from dreamlust.models.enums import UserRole, UserStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import (
    OPTIONAL_AUTH_ROUTE,
    bearer,
    make_account,
    refusals,
    route_statuses,
)

PROBLEM = "application/problem+json"

# Text anyone can read, used as an HMAC key: the public half of an RSA key pair, as a
# server that verifies RS256 would hold it (the classic RS256/HS256 confusion).
PUBLIC_KEY_TEXT = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo
4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u
+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyeh
kd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ
0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdg
cKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbc
mwIDAQAB
-----END PUBLIC KEY-----
"""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _claims(user: User, **changes: object) -> dict[str, Any]:
    """The claims of a genuine access token of `user`, with `changes` (None drops one)."""
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "role": user.role.value,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": new_id().hex,
        "iss": ISSUER,
        "typ": "access",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def _signed(claims: dict[str, Any], key: bytes | str, algorithm: str = ALGORITHM) -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def _hand_signed(claims: dict[str, Any], key: bytes, algorithm: str = ALGORITHM) -> str:
    """Signed as an attacker would, by hand: PyJWT itself refuses an HS512 key shorter
    than 64 bytes and a public key's text as an HMAC key."""
    digest = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}[algorithm]
    signing_input = f"{_segment({'alg': algorithm, 'typ': 'JWT'})}.{_segment(claims)}"
    signature = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


def _unsigned(claims: dict[str, Any], header: dict[str, Any], signature: str = "") -> str:
    return f"{_segment(header)}.{_segment(claims)}.{signature}"


class Forge:
    """What an attacker (or a test) can make tokens from."""

    def __init__(self, user: User, settings: Settings, runtime: Runtime) -> None:
        self.user = user
        self.key = derive_key(settings.signing_key(), "access-token")
        self.secret = settings.signing_key()
        self.genuine = runtime.access_tokens.issue(user)

    def with_claims(self, **changes: object) -> str:
        """Signed with the service's own key: only the claims are wrong."""
        return _signed(_claims(self.user, **changes), self.key)


def _payload_changed(forge: Forge) -> str:
    header, _payload, signature = forge.genuine.split(".")
    promoted = _segment(_claims(forge.user, role=UserRole.ADMIN.value))
    return f"{header}.{promoted}.{signature}"


def _signature_cut(forge: Forge) -> str:
    header, payload, _signature = forge.genuine.split(".")
    return f"{header}.{payload}."


def _signature_of_another_token(forge: Forge) -> str:
    header, payload, _signature = forge.genuine.split(".")
    other = forge.with_claims(jti=new_id().hex).split(".")[2]
    return f"{header}.{payload}.{other}"


ATTACKS: dict[str, Callable[[Forge], str]] = {
    "payload changed": _payload_changed,
    "signature cut": _signature_cut,
    "no signature part": lambda forge: forge.genuine.rsplit(".", 1)[0],
    "signature of another token": _signature_of_another_token,
    "not a jwt": lambda forge: "not-a-token",
    "expired": lambda forge: forge.with_claims(
        iat=int((utcnow() - timedelta(hours=1)).timestamp()),
        exp=int((utcnow() - timedelta(seconds=1)).timestamp()),
    ),
    "alg none": lambda forge: _unsigned(
        _claims(forge.user, role=UserRole.ADMIN.value), {"alg": "none", "typ": "JWT"}
    ),
    "alg None spelled otherwise": lambda forge: _unsigned(
        _claims(forge.user), {"alg": "NoNe", "typ": "JWT"}
    ),
    "RS256 header": lambda forge: _unsigned(
        _claims(forge.user), {"alg": "RS256", "typ": "JWT"}, _b64(b"\x01" * 256)
    ),
    "ES256 header": lambda forge: _unsigned(
        _claims(forge.user), {"alg": "ES256", "typ": "JWT"}, _b64(b"\x02" * 64)
    ),
    "HS512 with the right key": lambda forge: _hand_signed(_claims(forge.user), forge.key, "HS512"),
    "another HMAC key": lambda forge: _signed(_claims(forge.user), b"k" * 32),
    "the raw secret, not the access-token key": lambda forge: _signed(
        _claims(forge.user), forge.secret
    ),
    "a public key's text as the HMAC key": lambda forge: _hand_signed(
        _claims(forge.user), PUBLIC_KEY_TEXT.encode()
    ),
    "wrong audience": lambda forge: forge.with_claims(aud="another-service"),
    "wrong issuer": lambda forge: forge.with_claims(iss="someone-else"),
    "no issuer": lambda forge: forge.with_claims(iss=None),
    "no sub": lambda forge: forge.with_claims(sub=None),
    "no exp": lambda forge: forge.with_claims(exp=None),
    "sub not an id": lambda forge: forge.with_claims(sub="admin"),
    "unknown role": lambda forge: forge.with_claims(role="ROOT"),
    "not an access token": lambda forge: forge.with_claims(typ="refresh"),
    "issued in the future": lambda forge: forge.with_claims(
        iat=int((utcnow() + timedelta(hours=1)).timestamp()),
        exp=int((utcnow() + timedelta(hours=2)).timestamp()),
    ),
    "an account that never existed": lambda forge: forge.with_claims(sub=str(new_id())),
    "sub-second issue time as text": lambda forge: forge.with_claims(
        **{ISSUED_MICROSECONDS: str(microseconds_since_epoch(utcnow()))}
    ),
    "sub-second issue time as a fraction": lambda forge: forge.with_claims(
        **{ISSUED_MICROSECONDS: microseconds_since_epoch(utcnow()) + 0.5}
    ),
    "sub-second issue time out of range": lambda forge: forge.with_claims(
        **{ISSUED_MICROSECONDS: 10**30}
    ),
}


@pytest.mark.parametrize("attack", ATTACKS, ids=list(ATTACKS))
async def test_a_bad_access_token_is_401_on_protected_and_public_routes(
    client: httpx.AsyncClient,
    session: AsyncSession,
    settings: Settings,
    runtime: Runtime,
    attack: str,
) -> None:
    forge = Forge(await make_account(session), settings, runtime)
    token = ATTACKS[attack](forge)
    assert token != forge.genuine

    await refusals(client, token)

    # The same routes answer the genuine token and anonymous callers.
    assert await route_statuses(client, forge.genuine) == [200, 200]
    assert (await client.get(OPTIONAL_AUTH_ROUTE)).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        {"status": UserStatus.BANNED},
        {"status": UserStatus.SUSPENDED},
        {"deleted_at": utcnow()},
    ],
    ids=["banned", "suspended", "deleted"],
)
async def test_a_genuine_token_of_a_blocked_or_deleted_account_is_401_everywhere(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, change: dict[str, object]
) -> None:
    user = await make_account(session)
    token = runtime.access_tokens.issue(user)
    assert (await client.get(OPTIONAL_AUTH_ROUTE, headers=bearer(token))).status_code == 200

    await session.execute(update(User).where(User.id == user.id).values(**change))
    await session.commit()

    await refusals(client, token)


async def test_a_token_is_read_as_the_account_is_now_not_as_it_was_issued(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    """A token issued to an admin who was demoted since carries no admin rights."""
    admin = await make_account(session, UserRole.ADMIN)
    token = runtime.access_tokens.issue(admin)
    await session.execute(update(User).where(User.id == admin.id).values(role=UserRole.USER))
    await session.commit()

    response = await client.get("/api/v1/admin/users", headers=bearer(token))
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM


async def _mark(session: AsyncSession, user: User, moment: datetime) -> None:
    """Set the moment before which the account's access tokens are refused."""
    await session.execute(update(User).where(User.id == user.id).values(tokens_valid_after=moment))
    await session.commit()


async def test_a_genuine_token_carries_its_issue_time_to_the_microsecond(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    before = utcnow()
    token = runtime.access_tokens.issue(user)
    after = utcnow()
    issued_at = runtime.access_tokens.decode(token).issued_at
    assert before <= issued_at <= after

    await _mark(session, user, issued_at)
    assert await route_statuses(client, token) == [200, 200]
    await _mark(session, user, issued_at + timedelta(microseconds=1))
    problems = await refusals(client, token)
    assert [problem["detail"] for problem in problems] == [REFUSED_DETAIL] * 2


async def test_within_one_second_the_mark_refuses_only_tokens_issued_before_it(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, runtime: Runtime
) -> None:
    """Three tokens of the mark's own second, so the same `iat`: a microsecond before
    the mark is refused, at it and a microsecond after it are not."""
    forge = Forge(await make_account(session), settings, runtime)
    mark = (utcnow() - timedelta(minutes=1)).replace(microsecond=654_321)
    await _mark(session, forge.user, mark)
    at = microseconds_since_epoch(mark)

    def issued(microseconds: int) -> str:
        return forge.with_claims(
            iat=microseconds // 1_000_000, **{ISSUED_MICROSECONDS: microseconds}
        )

    problems = await refusals(client, issued(at - 1))
    assert [problem["detail"] for problem in problems] == [REFUSED_DETAIL] * 2
    assert await route_statuses(client, issued(at)) == [200, 200]
    assert await route_statuses(client, issued(at + 1)) == [200, 200]


async def test_a_token_without_the_sub_second_time_counts_from_the_start_of_its_second(
    client: httpx.AsyncClient, session: AsyncSession, settings: Settings, runtime: Runtime
) -> None:
    """Tokens of an earlier release carry only `iat`: one of the mark's second may have
    come before it, so it is refused; one of the next second is not."""
    forge = Forge(await make_account(session), settings, runtime)
    mark = (utcnow() - timedelta(minutes=1)).replace(microsecond=1)
    await _mark(session, forge.user, mark)
    second = microseconds_since_epoch(mark) // 1_000_000

    await refusals(client, forge.with_claims(iat=second))
    assert await route_statuses(client, forge.with_claims(iat=second + 1)) == [200, 200]
