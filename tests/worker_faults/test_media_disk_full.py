"""Uploads to a disk that is full: the local media folder on a small tmpfs, alone or with
the folder where uploads are staged. The upload is refused with a 413 problem, nothing
of it is half-stored (no partial file, no asset row promising a file that is not there,
`media gc --check` clean), and once there is room again the same upload goes through:
sent again in one request, or resumed with tus from the offset the server kept."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.media.storage import original_key
from dreamlust.models.enums import MediaAssetStatus
from dreamlust.runtime import Runtime
from tests.fixtures.cli import Invoke
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.serving import served
from tests.fixtures.small_disk import SmallDisk, small_disk
from tests.fixtures.uploads import (
    TUS,
    Creator,
    MiB,
    assets_of,
    create_upload,
    creator_with_content,
    mp4_bytes,
    patch,
    read_stored,
    staged,
)

FILE_BYTES = 3 * MiB
# Room left on the disk: less than the file, more than the folders' own needs.
ROOM = 1 * MiB


@dataclass
class FullDisk:
    disk: SmallDisk
    runtime: Runtime
    client: httpx.AsyncClient

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


@pytest.fixture(params=["media folder", "media and upload folders"])
async def full_disk(
    request: pytest.FixtureRequest,
    settings: Settings,
    tmp_path: Path,
    dreamlust_cli: Invoke,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[FullDisk]:
    """The application with its media folder (and, as asked, its upload folder) on a
    small disk with `ROOM` bytes left."""
    with small_disk(tmp_path / "disk", 8 * MiB) as disk:
        media_dir = disk.root / "media"
        upload_dir = disk.root / "uploads" if "upload" in request.param else tmp_path / "uploads"
        monkeypatch.setenv("DREAMLUST_MEDIA_DIR", str(media_dir))
        async with (
            own_runtime(settings, media_dir=media_dir, upload_dir=upload_dir) as runtime,
            served(create_app(runtime.settings, runtime=runtime)) as client,
        ):
            media_dir.mkdir()
            upload_dir.mkdir(exist_ok=True)
            disk.fill(leave=ROOM)
            yield FullDisk(disk, runtime, client)


async def _send_form(full: FullDisk, creator: Creator, data: bytes) -> httpx.Response:
    return await full.client.post(
        creator.media_url,
        files={"file": ("clip.mp4", data, "video/mp4")},
        headers=creator.headers,
    )


async def _offset(full: FullDisk, creator: Creator, location: str) -> int:
    head = await full.client.head(location, headers={**creator.headers, **TUS})
    assert head.status_code == 200, head.text
    return int(head.headers["Upload-Offset"])


def _assert_refused_for_room(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 413
    assert "room" in problem["detail"]


async def _assert_gc_clean(dreamlust_cli: Invoke) -> None:
    gc = await dreamlust_cli("media", "gc", "--check", "--min-age-minutes", "0")
    assert gc.exit_code == 0, gc.output


async def test_a_file_sent_in_one_request_to_a_full_disk_is_refused_and_leaves_nothing(
    full_disk: FullDisk, session: AsyncSession, dreamlust_cli: Invoke
) -> None:
    creator = await creator_with_content(session, full_disk.runtime)
    data = mp4_bytes(FILE_BYTES)

    refused = await _send_form(full_disk, creator, data)

    _assert_refused_for_room(refused)
    assert await assets_of(session, creator.content) == []
    assert full_disk.disk.files() == set()
    assert staged(full_disk.settings) == set()
    await _assert_gc_clean(dreamlust_cli)

    full_disk.disk.free()
    sent = await _send_form(full_disk, creator, data)

    assert sent.status_code == 201, sent.text
    [asset] = await assets_of(session, creator.content)
    assert asset.status is MediaAssetStatus.PROCESSING
    stored = await read_stored(full_disk.runtime.storage, str(original_key(asset.id)), len(data))
    assert stored == hashlib.sha256(data).hexdigest()
    assert full_disk.disk.files() == {f"media/{original_key(asset.id)}"}
    await _assert_gc_clean(dreamlust_cli)


async def test_a_tus_upload_to_a_full_disk_is_refused_and_resumed_once_there_is_room(
    full_disk: FullDisk, session: AsyncSession, dreamlust_cli: Invoke
) -> None:
    creator = await creator_with_content(session, full_disk.runtime)
    data = mp4_bytes(FILE_BYTES)
    created = await create_upload(full_disk.client, creator, len(data))
    assert created.status_code == 201, created.text
    location = created.headers["Location"]

    offset, refused = 0, None
    while offset < len(data):
        sent = await patch(
            full_disk.client, location, creator, offset, data[offset : offset + MiB // 2]
        )
        if sent.status_code != 204:
            refused = sent
            break
        offset = int(sent.headers["Upload-Offset"])

    assert refused is not None, "the whole file fitted on the full disk"
    _assert_refused_for_room(refused)
    kept = await _offset(full_disk, creator, location)
    [asset] = await assets_of(session, creator.content)
    assert (asset.status, asset.upload_offset) == (MediaAssetStatus.UPLOADING, kept)
    assert {path for path in full_disk.disk.files() if path.startswith("media/")} == set()
    [staged_file] = staged(full_disk.settings)
    assert (full_disk.settings.upload_dir / staged_file).stat().st_size == kept
    await _assert_gc_clean(dreamlust_cli)

    full_disk.disk.free()
    rest = await patch(full_disk.client, location, creator, kept, data[kept:])

    assert (rest.status_code, rest.headers.get("Upload-Offset")) == (204, str(len(data)))
    [asset] = await assets_of(session, creator.content)
    assert asset.status is MediaAssetStatus.PROCESSING
    assert asset.checksum_sha256 == hashlib.sha256(data).hexdigest()
    stored = await read_stored(full_disk.runtime.storage, str(original_key(asset.id)), len(data))
    assert stored == hashlib.sha256(data).hexdigest()
    assert staged(full_disk.settings) == set()
    await _assert_gc_clean(dreamlust_cli)
