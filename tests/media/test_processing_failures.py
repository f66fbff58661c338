"""Hostile and broken files end FAILED with a reason the creator can read and nothing
left in storage; leases keep two workers off one asset, and a worker that dies mid-way
leaves the asset to another, a few times at most."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.kit.clock import utcnow
from dreamlust.media import images, processing
from dreamlust.media.processing_repository import ProcessingRepository
from dreamlust.models.enums import ContentType, MediaAssetStatus
from dreamlust.runtime import Runtime
from tests.fixtures.media_files import (
    image_bytes,
    make_video,
    png_bomb,
    require_ffmpeg,
    truncated,
)
from tests.fixtures.processing import (
    derived_rows,
    reloaded_asset,
    run_processing,
    stored_keys,
    waiting_asset,
)
from tests.fixtures.runtimes import own_runtime


@pytest.fixture(scope="session")
def video_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    require_ffmpeg()
    return make_video(tmp_path_factory.mktemp("hostile") / "clip.mp4", seconds=2).read_bytes()


def _random_bytes() -> bytes:
    return random.Random(12).randbytes(64 * 1024)


# name: (the file, its detected type, the content's type, words the reason must hold,
# whether ffmpeg is needed)
HOSTILE: dict[str, tuple[Callable[[bytes], bytes], str, ContentType, str, bool]] = {
    "decompression bomb": (
        lambda _: png_bomb(),
        "image/png",
        ContentType.PHOTO,
        "too large",
        False,
    ),
    "truncated jpeg": (
        lambda _: truncated(image_bytes((800, 600), "JPEG")),
        "image/jpeg",
        ContentType.PHOTO,
        "damaged or incomplete",
        False,
    ),
    "truncated mp4": (truncated, "video/mp4", ContentType.VIDEO, "cannot be read as video", True),
    "random bytes as mp4": (
        lambda _: _random_bytes(),
        "video/mp4",
        ContentType.VIDEO,
        "cannot be read as video",
        True,
    ),
    "png as mp4": (
        lambda _: image_bytes(),
        "video/mp4",
        ContentType.VIDEO,
        "still image, not a video",
        True,
    ),
    "empty file": (lambda _: b"", "video/mp4", ContentType.VIDEO, "empty", False),
    "video as photo": (
        lambda video: video,
        "video/mp4",
        ContentType.PHOTO,
        "PHOTO content takes image files",
        True,
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
async def test_a_hostile_file_fails_with_a_reason_and_leaves_nothing(
    session: AsyncSession, runtime: Runtime, request: pytest.FixtureRequest, case: str
) -> None:
    make, mime_type, content_type, reason, needs_ffmpeg = HOSTILE[case]
    video = request.getfixturevalue("video_bytes") if needs_ffmpeg else b""
    waiting = await waiting_asset(
        session, runtime, data=make(video), mime_type=mime_type, content_type=content_type
    )

    await run_processing(runtime)

    asset = await reloaded_asset(session, waiting.asset)
    assert asset.status is MediaAssetStatus.FAILED
    assert asset.failure is not None
    assert reason in asset.failure
    assert asset.lease_until is None
    assert await stored_keys(runtime, asset) == []
    assert await derived_rows(session, asset) == []


async def test_a_tool_that_runs_too_long_fails_the_file(
    session: AsyncSession, runtime: Runtime, settings: Settings, video_bytes: bytes
) -> None:
    waiting = await waiting_asset(session, runtime, data=video_bytes, mime_type="video/mp4")

    async with own_runtime(settings, media_tool_timeout_seconds=0.001) as hurried:
        await run_processing(hurried)

    asset = await reloaded_asset(session, waiting.asset)
    assert asset.status is MediaAssetStatus.FAILED
    assert asset.failure is not None
    assert "took too long" in asset.failure
    assert await stored_keys(runtime, asset) == []


async def test_two_workers_never_process_the_same_asset(
    session: AsyncSession, runtime: Runtime
) -> None:
    one = await waiting_asset(
        session,
        runtime,
        data=image_bytes((800, 600), "JPEG"),
        mime_type="image/jpeg",
        content_type=ContentType.PHOTO,
    )

    worked = await asyncio.gather(
        *(
            processing.process_media(runtime.storage, runtime.database, runtime.settings)
            for _ in range(2)
        )
    )

    assert sorted(worked) == [False, True]
    asset = await reloaded_asset(session, one.asset)
    assert (asset.status, asset.processing_attempts) == (MediaAssetStatus.READY, 1)
    assert len(await derived_rows(session, asset)) == 2


async def test_concurrent_claims_take_each_asset_once(
    session: AsyncSession, runtime: Runtime
) -> None:
    waiting = [
        await waiting_asset(session, runtime, data=b"x", mime_type="video/mp4") for _ in range(3)
    ]
    now = utcnow()

    claims = await asyncio.gather(
        *(
            processing.claim_next(runtime.storage, runtime.database, runtime.settings, now)
            for _ in range(8)
        )
    )

    taken = [claim.asset_id for claim in claims if claim is not None]
    assert sorted(taken) == sorted(w.asset.id for w in waiting)


async def test_a_dead_workers_asset_is_taken_over_and_its_late_result_dropped(
    session: AsyncSession, runtime: Runtime
) -> None:
    waiting = await waiting_asset(session, runtime, data=b"x", mime_type="video/mp4")
    lease = timedelta(seconds=runtime.settings.media_processing_lease_seconds)
    now = utcnow()
    first = await processing.claim_next(runtime.storage, runtime.database, runtime.settings, now)
    assert first is not None

    held = await processing.claim_next(
        runtime.storage, runtime.database, runtime.settings, now + lease / 2
    )
    later = now + lease + timedelta(seconds=1)
    second = await processing.claim_next(runtime.storage, runtime.database, runtime.settings, later)

    assert held is None
    assert second is not None
    assert second.asset_id == first.asset_id
    assert second.attempts == 2
    async with runtime.database.transaction() as tx:
        repository = ProcessingRepository(tx)
        late = await repository.finish(
            first.asset_id, first.lease_until, status=MediaAssetStatus.READY
        )
        renewed = await repository.renew_lease(first.asset_id, first.lease_until, later + lease)
    assert (late, renewed) == (False, False)
    asset = await reloaded_asset(session, waiting.asset)
    assert asset.status is MediaAssetStatus.PROCESSING


async def test_an_asset_that_keeps_crashing_its_workers_fails(
    session: AsyncSession, runtime: Runtime
) -> None:
    attempts = runtime.settings.media_max_attempts
    waiting = await waiting_asset(
        session,
        runtime,
        data=image_bytes(),
        mime_type="image/png",
        content_type=ContentType.PHOTO,
        processing_attempts=attempts,
        lease_until=utcnow() - timedelta(seconds=1),
    )

    await run_processing(runtime)

    asset = await reloaded_asset(session, waiting.asset)
    assert (asset.status, asset.failure) == (MediaAssetStatus.FAILED, processing.KEPT_FAILING)
    assert await stored_keys(runtime, asset) == []


async def test_an_error_that_is_not_the_files_fault_is_retried_later(
    session: AsyncSession, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = await waiting_asset(
        session,
        runtime,
        data=image_bytes(),
        mime_type="image/png",
        content_type=ContentType.PHOTO,
    )

    def storage_down(*_: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(images, "thumbnail", storage_down)
    await run_processing(runtime)

    asset = await reloaded_asset(session, waiting.asset)
    assert (asset.status, asset.processing_attempts) == (MediaAssetStatus.PROCESSING, 1)
    assert asset.lease_until is not None
    assert asset.lease_until > utcnow()
    monkeypatch.undo()
    await run_processing(runtime)  # not yet: it waits for its retry time
    assert (await reloaded_asset(session, waiting.asset)).processing_attempts == 1
