"""Refresh tokens rotate on every use; replaying a rotated one revokes its family."""

import asyncio

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models import RefreshToken
from tests.fixtures.accounts import login, make_account

REFRESH = "/api/v1/auth/refresh"


async def test_twenty_concurrent_refreshes_with_one_token_give_one_success(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(session)
    pair = await login(client, user.username)

    responses = await asyncio.gather(
        *(client.post(REFRESH, json={"refresh_token": pair["refresh_token"]}) for _ in range(20))
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [401] * 19
    for response in responses:
        if response.status_code == 401:
            assert response.headers["content-type"] == "application/problem+json"


async def test_reusing_a_rotated_token_revokes_the_whole_family(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(session)
    first = await login(client, user.username)
    other_device = await login(client, user.username)
    second = (await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()
    third = (await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})).json()

    replay = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401

    newest = await client.post(REFRESH, json={"refresh_token": third["refresh_token"]})
    assert newest.status_code == 401, "the family's newest token must be revoked too"
    untouched = await client.post(REFRESH, json={"refresh_token": other_device["refresh_token"]})
    assert untouched.status_code == 200, "another sign-in is another family"


async def test_refresh_tokens_are_stored_only_as_hashes(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    user = await make_account(session)
    pair = await login(client, user.username)
    stored = (await session.execute(select(RefreshToken.token_hash))).scalars().all()
    assert len(stored) == 1
    assert pair["refresh_token"] not in stored[0]
    assert len(stored[0]) == 64


async def test_unknown_and_malformed_refresh_tokens_are_refused(client: httpx.AsyncClient) -> None:
    unknown = await client.post(REFRESH, json={"refresh_token": "A" * 43})
    assert unknown.status_code == 401
    malformed = await client.post(REFRESH, json={"refresh_token": "not a token!"})
    assert malformed.status_code == 422
