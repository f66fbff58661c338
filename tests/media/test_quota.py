"""Storage quotas: uploads in progress reserve their length, and concurrent creations by
one account never exceed the quota together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.models.enums import MediaAssetStatus
from dreamlust.runtime import Runtime
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.serving import served
from tests.fixtures.uploads import assets_of, create_upload, creator_with_content, staged

QUOTA = 10_000


@pytest.fixture
async def quota_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        own_runtime(settings, storage_quota_bytes=QUOTA) as runtime,
        served(create_app(settings, runtime=runtime)) as client,
    ):
        yield client


async def test_concurrent_creations_never_exceed_the_quota_together(
    quota_client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    sizes = [4000, 3000, 3000, 2500, 2000, 1500, 3500, 2500]
    before = staged(settings)
    responses = await asyncio.gather(
        *(create_upload(quota_client, creator, size) for size in sizes)
    )

    accepted = [size for size, r in zip(sizes, responses, strict=True) if r.status_code == 201]
    refused = [size for size, r in zip(sizes, responses, strict=True) if r.status_code == 413]
    assert len(accepted) + len(refused) == len(sizes), [r.text for r in responses]
    assert refused
    assert sum(accepted) <= QUOTA
    # Each was refused because it did not fit beside what was accepted.
    assert all(size + sum(accepted) > QUOTA for size in refused)
    problem = next(r for r in responses if r.status_code == 413).json()
    assert problem["type"] == "urn:dreamlust:problem:storage-quota-exceeded"
    assets = await assets_of(session, creator.content)
    assert sorted(asset.file_size for asset in assets) == sorted(accepted)
    assert len(staged(settings) - before) == len(accepted)


async def test_failed_assets_free_their_room(
    quota_client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    creator = await creator_with_content(session, runtime)
    assert (await create_upload(quota_client, creator, QUOTA)).status_code == 201
    assert (await create_upload(quota_client, creator, 1)).status_code == 413
    [asset] = await assets_of(session, creator.content)
    asset.status = MediaAssetStatus.FAILED
    await session.commit()
    assert (await create_upload(quota_client, creator, QUOTA)).status_code == 201


async def test_the_quota_is_per_account(
    quota_client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    first = await creator_with_content(session, runtime)
    second = await creator_with_content(session, runtime)
    assert (await create_upload(quota_client, first, QUOTA)).status_code == 201
    assert (await create_upload(quota_client, second, QUOTA)).status_code == 201
