"""The worker forgets uploads left unfinished past their expiry, and stray staged files."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.jobs import periodic
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.models import MediaAsset
from dreamlust.runtime import Runtime
from tests.fixtures.uploads import (
    assets_of,
    create_upload,
    creator_with_content,
    mp4_bytes,
    patch,
)


async def test_expired_uploads_and_their_files_are_deleted(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    data = mp4_bytes(10_000)
    abandoned = (await create_upload(client, creator, len(data))).headers["Location"]
    await patch(client, abandoned, creator, 0, data[:6000])
    current = (await create_upload(client, creator, len(data))).headers["Location"]
    abandoned_id, current_id = abandoned.rsplit("/", 1)[1], current.rsplit("/", 1)[1]
    await session.execute(
        update(MediaAsset)
        .where(MediaAsset.id == uuid.UUID(abandoned_id))
        .values(upload_expires_at=utcnow() - timedelta(minutes=1))
    )
    await session.commit()
    assert "forget-abandoned-uploads" in {job.name for job in periodic.jobs(settings)}

    await periodic.forget_abandoned_uploads(runtime)

    assert [str(asset.id) for asset in await assets_of(session, creator.content)] == [current_id]
    assert not (settings.upload_dir / abandoned_id).exists()
    assert (settings.upload_dir / current_id).exists()
    assert (await patch(client, abandoned, creator, 6000, data[6000:])).status_code == 404


async def test_an_expired_upload_is_gone_for_its_client_at_once(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    creator = await creator_with_content(session, runtime)
    location = (await create_upload(client, creator, 100)).headers["Location"]
    await session.execute(
        update(MediaAsset).values(upload_expires_at=utcnow() - timedelta(seconds=1))
    )
    await session.commit()
    head = await client.head(location, headers={**creator.headers, "Tus-Resumable": "1.0.0"})
    assert head.status_code == 404


async def test_old_staged_files_without_an_upload_are_deleted(
    runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    old, fresh, foreign = (
        settings.upload_dir / str(new_id()),
        settings.upload_dir / str(new_id()),
        settings.upload_dir / "not-an-upload",
    )
    for path in (old, fresh, foreign):
        path.write_bytes(b"left over")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    os.utime(foreign, (two_hours_ago, two_hours_ago))

    await periodic.forget_abandoned_uploads(runtime)

    assert not old.exists()
    assert not foreign.exists()
    assert fresh.exists()  # may be an upload whose row is being committed
    fresh.unlink()
