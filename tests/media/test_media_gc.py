"""`dreamlust media gc`: files no asset owns are found (`--check`, exit 1) and deleted;
assets whose file is gone are found and marked FAILED, never deleted."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.kit.ids import new_id
from dreamlust.media import gc
from dreamlust.media.files import delete_files_of
from dreamlust.media.storage import (
    LocalStorage,
    MediaKey,
    Storage,
    derived_key,
    original_key,
)
from dreamlust.media.storage.s3 import S3Storage
from dreamlust.models import MediaAsset
from dreamlust.models.enums import MediaAssetKind, MediaAssetStatus
from tests.fixtures.cli import Invoke
from tests.fixtures.factories import make_content, make_creator, make_user
from tests.fixtures.s3 import s3_server
from tests.fixtures.stored_media import S3_UPLOAD_WARNING, store_asset, store_hls

pytestmark = S3_UPLOAD_WARNING
NOW = ("--min-age-minutes", "0")


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    """A media folder of the test's own: the suite's is shared with other tests."""
    return LocalStorage(tmp_path / "media")


@pytest.fixture
def media_gc(
    dreamlust_cli: Invoke, storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> Invoke:
    """Run `dreamlust media gc ARGS` against the test database and this test's folder."""
    monkeypatch.setenv("DREAMLUST_MEDIA_DIR", str(storage.root))

    async def invoke(*args: str) -> Result:
        return await dreamlust_cli("media", "gc", *args)

    return invoke


async def stored(storage: Storage) -> list[str]:
    return [key for prefix in ("originals/", "derived/") async for key in storage.keys(prefix)]


async def a_served_video(session: AsyncSession, storage: Storage) -> list[str]:
    """A content item's original, its thumbnail and its HLS stream: every file owned."""
    creator = await make_creator(session)
    content = await make_content(session, creator)
    user = await make_user(session)
    media = await store_asset(session, storage, user, b"video", content=content)
    await store_asset(
        session,
        storage,
        user,
        b"webp",
        kind=MediaAssetKind.THUMBNAIL,
        source=media,
        mime_type="image/webp",
    )
    await store_hls(storage, media)
    await session.commit()
    return await stored(storage)


async def test_a_clean_store_is_reported_clean(
    session: AsyncSession, storage: LocalStorage, media_gc: Invoke
) -> None:
    files = await a_served_video(session, storage)

    checked = await media_gc("--check", *NOW)
    collected = await media_gc(*NOW)

    assert checked.exit_code == 0, checked.output
    assert "0 orphan file(s), 0 asset(s) without a file" in checked.output
    assert collected.exit_code == 0, collected.output
    assert await stored(storage) == files


async def test_files_without_a_row_are_found_then_deleted(
    session: AsyncSession, storage: LocalStorage, media_gc: Invoke
) -> None:
    owned = await a_served_video(session, storage)
    stray_original = original_key(new_id())
    stray_derived = derived_key(new_id(), "hls/720p/segment-00003.ts")
    for key in (stray_original, stray_derived):
        await storage.save_bytes(key, b"left behind", "application/octet-stream")

    checked = await media_gc("--check", *NOW)

    assert checked.exit_code == 1, checked.output
    assert f"orphan file {stray_original}" in checked.output
    assert f"orphan file {stray_derived}" in checked.output
    assert len(await stored(storage)) == len(owned) + 2, "--check changes nothing"

    collected = await media_gc(*NOW)

    assert collected.exit_code == 0, collected.output
    assert f"deleted file {stray_original}" in collected.output
    assert await stored(storage) == owned
    assert (await media_gc("--check", *NOW)).exit_code == 0


async def test_a_file_younger_than_the_minimum_age_is_left_for_now(
    session: AsyncSession, storage: LocalStorage, media_gc: Invoke
) -> None:
    """Its row may be in a transaction that has not committed yet."""
    fresh = original_key(new_id())
    await storage.save_bytes(fresh, b"just uploaded", "application/octet-stream")

    checked = await media_gc("--check")
    collected = await media_gc()

    assert checked.exit_code == 0, checked.output
    assert f"recent file without a row, left for now: {fresh}" in checked.output
    assert collected.exit_code == 0
    assert await stored(storage) == [fresh]


async def test_assets_whose_file_is_gone_are_found_then_failed(
    session: AsyncSession, storage: LocalStorage, media_gc: Invoke, database: Database
) -> None:
    user = await make_user(session)
    lost = await store_asset(session, storage, user, b"video")
    processing = await store_asset(
        session, storage, user, b"video", status=MediaAssetStatus.PROCESSING
    )
    uploading = await store_asset(
        session, storage, user, b"video", status=MediaAssetStatus.UPLOADING
    )
    kept = await store_asset(session, storage, user, b"video")
    await session.commit()
    for asset in (lost, processing, uploading):
        await storage.delete(MediaKey(asset.storage_key))

    checked = await media_gc("--check", *NOW)

    assert checked.exit_code == 1, checked.output
    assert f"missing file: asset {lost.id} ({lost.storage_key})" in checked.output
    assert f"missing file: asset {processing.id}" in checked.output
    assert str(uploading.id) not in checked.output, "uploads in progress are not stored yet"
    assert await statuses(database) == {
        lost.id: MediaAssetStatus.READY,
        processing.id: MediaAssetStatus.PROCESSING,
        uploading.id: MediaAssetStatus.UPLOADING,
        kept.id: MediaAssetStatus.READY,
    }

    collected = await media_gc(*NOW)

    assert collected.exit_code == 0, collected.output
    assert f"failed, file missing: asset {lost.id}" in collected.output
    assert await statuses(database) == {
        lost.id: MediaAssetStatus.FAILED,
        processing.id: MediaAssetStatus.FAILED,
        uploading.id: MediaAssetStatus.UPLOADING,
        kept.id: MediaAssetStatus.READY,
    }
    async with database.session() as reading:
        failed = await reading.get_one(MediaAsset, lost.id)
        assert failed.failure == gc.FILE_MISSING
    assert (await media_gc("--check", *NOW)).exit_code == 0


async def statuses(database: Database) -> dict[uuid.UUID, MediaAssetStatus]:
    async with database.session() as reading:
        rows = await reading.execute(select(MediaAsset.id, MediaAsset.status))
        return {row.id: row.status for row in rows}


async def test_keys_the_application_would_not_make_are_reported_and_left_alone(
    storage: LocalStorage, media_gc: Invoke, database: Database
) -> None:
    foreign = storage.root / "derived" / "notes.txt"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("someone's notes")

    checked = await media_gc("--check", *NOW)
    await media_gc(*NOW)

    assert checked.exit_code == 0, checked.output
    assert "unrecognised key, left alone: derived/notes.txt" in checked.output
    assert foreign.exists()


@pytest.fixture(params=["local", "s3"])
async def any_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "media")
    server = s3_server(request)
    return S3Storage(
        endpoint_url=server.endpoint_url,
        bucket=server.bucket,
        region=server.region,
        access_key=server.access_key,
        secret_key=server.secret_key,
        presign_seconds=60,
    )


async def test_deleting_the_files_of_assets_takes_their_originals_and_derived_files(
    any_storage: Storage,
) -> None:
    gone, other = new_id(), new_id()
    keys = {
        asset_id: [
            original_key(asset_id),
            derived_key(asset_id, "poster.jpg"),
            derived_key(asset_id, "hls/master.m3u8"),
            derived_key(asset_id, "hls/720p/segment-00000.ts"),
        ]
        for asset_id in (gone, other)
    }
    try:
        for key in keys[gone] + keys[other]:
            await any_storage.save_bytes(key, b"x", "application/octet-stream")

        await delete_files_of(any_storage, [gone])
        await delete_files_of(any_storage, [gone])  # again: nothing left is fine

        for key in keys[gone]:
            assert await any_storage.stat(key) is None, key
        for key in keys[other]:
            assert await any_storage.stat(key) is not None, key
    finally:
        await delete_files_of(any_storage, [other])
        await any_storage.aclose()


async def test_on_s3_an_orphan_object_is_found_and_deleted(
    request: pytest.FixtureRequest, settings: Settings, database: Database, session: AsyncSession
) -> None:
    server = s3_server(request)
    store = S3Storage(
        endpoint_url=server.endpoint_url,
        bucket=server.bucket,
        region=server.region,
        access_key=server.access_key,
        secret_key=server.secret_key,
        presign_seconds=60,
    )
    user = await make_user(session)
    owned = await store_asset(session, store, user, b"video")
    await session.commit()
    try:
        orphan = derived_key(new_id(), "poster.webp")
        await store.save_bytes(orphan, b"left behind", "image/webp")

        checked = await gc.collect(database, store, check_only=True, min_age=timedelta(0))
        assert orphan in checked.orphan_files
        assert await store.stat(orphan) is not None

        await gc.collect(database, store, check_only=False, min_age=timedelta(0))

        assert await store.stat(orphan) is None
        assert await store.stat(MediaKey(owned.storage_key)) is not None
    finally:
        await delete_files_of(store, [owned.id])
        await store.aclose()
