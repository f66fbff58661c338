"""Passwords are stored as argon2id with at least OWASP's parameters, and upgraded on login."""

import httpx
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import User
from tests.fixtures.accounts import STRONG_PASSWORD, login, make_account, reload
from tests.fixtures.factories import PASSWORD

MIN_MEMORY_KIB = 19 * 1024
MIN_TIME_COST = 2
WEAKER_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


def parameters_of(password_hash: str) -> dict[str, int]:
    """The variant and cost parameters encoded in a PHC string: $argon2id$v=19$m=…,t=…,p=…$…"""
    _, variant, version, costs, _salt, _digest = password_hash.split("$")
    assert variant == "argon2id"
    assert version == "v=19"
    return {name: int(value) for name, value in (cost.split("=") for cost in costs.split(","))}


async def test_a_registered_password_is_stored_as_argon2id_with_owasp_parameters(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": "mia@example.com", "username": "mia", "password": STRONG_PASSWORD},
    )
    assert registered.status_code == 201

    stored = await session.scalar(select(User.password_hash).where(User.username == "mia"))
    await session.commit()

    assert stored is not None
    assert STRONG_PASSWORD not in stored
    parameters = parameters_of(stored)
    assert parameters["m"] >= MIN_MEMORY_KIB
    assert parameters["t"] >= MIN_TIME_COST
    assert parameters["p"] == 1
    assert PasswordHasher().verify(stored, STRONG_PASSWORD)


async def test_login_upgrades_a_hash_made_with_weaker_parameters(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    weak_hash = WEAKER_HASHER.hash(PASSWORD)
    user = await make_account(session, password_hash=weak_hash)

    await login(client, user.username)

    stored = await reload(session, user)
    assert stored.password_hash != weak_hash
    parameters = parameters_of(stored.password_hash)
    assert parameters["m"] >= MIN_MEMORY_KIB
    assert parameters["t"] >= MIN_TIME_COST
    assert parameters["p"] == 1
    assert PasswordHasher().verify(stored.password_hash, PASSWORD)
    assert stored.version == 1, "upgrading a hash is not an edit of the profile"
    assert stored.last_login_at is not None
    await login(client, user.username)


async def test_login_keeps_a_hash_that_has_the_current_parameters(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(session)
    before = user.password_hash

    await login(client, user.username)

    stored = await reload(session, user)
    assert stored.password_hash == before
    assert stored.version == 1


async def test_a_wrong_password_never_upgrades_the_hash(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    weak_hash = WEAKER_HASHER.hash(PASSWORD)
    user = await make_account(session, password_hash=weak_hash)

    response = await client.post(
        "/api/v1/auth/login", json={"login": user.username, "password": "not the password"}
    )

    assert response.status_code == 401
    assert (await reload(session, user)).password_hash == weak_hash
