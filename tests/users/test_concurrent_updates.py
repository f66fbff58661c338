"""Concurrent writers of one profile: exactly one wins, the others are told they are stale."""

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account, reload

ME = "/api/v1/users/me"
WRITERS = 50


async def test_fifty_concurrent_patches_of_one_version_give_one_winner(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    user = await make_account(session)
    headers = {**headers_for(runtime, user), "If-Match": '"1"'}
    names = [f"Writer {number}" for number in range(WRITERS)]

    responses = await asyncio.gather(
        *(client.patch(ME, json={"display_name": name}, headers=headers) for name in names)
    )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [412] * (WRITERS - 1)
    winner = next(response for response in responses if response.status_code == 200)
    for response in responses:
        if response.status_code == 412:
            assert response.headers["content-type"] == "application/problem+json"
    stored = await reload(session, user)
    assert stored.version == 2
    assert stored.display_name == winner.json()["display_name"]
    assert winner.json()["version"] == 2
