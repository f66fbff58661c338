"""Media storage: the same behaviour from a local folder and from a real S3 store
(SeaweedFS), and keys that cannot lead anywhere the application did not mean."""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import cast
from uuid import UUID

import httpx
import pytest

from dreamlust.config import Settings
from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.media.storage import (
    InvalidMediaKey,
    LocalStorage,
    MediaKey,
    ObjectNotFound,
    RangeNotSatisfiable,
    Storage,
    StorageError,
    check_prefix,
    content_disposition,
    create_storage,
    derived_key,
    derived_prefix,
    original_key,
)
from dreamlust.media.storage import local as local_module
from dreamlust.media.storage.s3 import S3Storage
from tests.fixtures.s3 import S3Server, s3_server

# aiohttp advises against request bodies of raw bytes over 1 MiB, as aioboto3 sends the
# parts of a multipart upload: harmless here, and a ResourceWarning, silent by default.
pytestmark = pytest.mark.filterwarnings("ignore:Sending a large body directly:ResourceWarning")
MiB = 1024 * 1024
# Small pages on S3, so that a few dozen keys take several listing requests.
PAGE_SIZE = 10


def s3_storage(server: S3Server, **overrides: str) -> S3Storage:
    options = {"access_key": server.access_key, "secret_key": server.secret_key, **overrides}
    return S3Storage(
        endpoint_url=server.endpoint_url,
        bucket=server.bucket,
        region=server.region,
        presign_seconds=60,
        page_size=PAGE_SIZE,
        **options,
    )


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    """Each test's keys belong to assets of its own, so the S3 tests share one bucket."""
    store: Storage
    if request.param == "local":
        store = LocalStorage(tmp_path / "media")
    else:
        store = s3_storage(s3_server(request))
    yield store
    await store.aclose()


async def read_all(storage: Storage, key: MediaKey, start: int, end: int) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, start, end)])


async def listed(storage: Storage, prefix: str) -> list[str]:
    return [key async for key in storage.keys(prefix)]


def temporary_files(folder: Path) -> list[str]:
    return [path.name for path in folder.iterdir() if path.name.endswith(".part")]


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(MiB):
            digest.update(block)
    return digest.hexdigest()


async def test_a_saved_file_comes_back_whole(storage: Storage, tmp_path: Path) -> None:
    source, copy = tmp_path / "upload.bin", tmp_path / "copy.bin"
    source.write_bytes(os.urandom(20 * MiB))
    expected = sha256(source)
    key = original_key(new_id())

    await storage.save(key, source, content_type="video/mp4")
    await storage.fetch(key, copy)

    assert not source.exists(), "saving moves the file into the store"
    assert sha256(copy) == expected
    stored = await storage.stat(key)
    assert stored is not None
    assert stored.size == 20 * MiB
    if isinstance(storage, S3Storage):
        # An S3 ETag of "<md5 of the parts' md5s>-<parts>" shows a multipart upload.
        assert stored.etag.endswith("-3")
    assert not temporary_files(tmp_path)


async def test_fetching_replaces_the_destination_whole(storage: Storage, tmp_path: Path) -> None:
    key = original_key(new_id())
    destination = tmp_path / "original"
    destination.write_bytes(b"stale")
    await storage.save_bytes(key, b"fresh content", "application/octet-stream")

    await storage.fetch(key, destination)

    assert destination.read_bytes() == b"fresh content"
    assert not temporary_files(tmp_path)


async def test_ranges_are_inclusive_as_in_http(storage: Storage) -> None:
    data = os.urandom(10_000)
    key = derived_key(new_id(), "poster.jpg")
    await storage.save_bytes(key, data, "image/jpeg")

    assert await read_all(storage, key, 0, 0) == data[:1]
    assert await read_all(storage, key, 9_500, 9_999) == data[-500:]
    assert await read_all(storage, key, 1_000, 2_999) == data[1_000:3_000]
    assert await read_all(storage, key, 0, 9_999) == data
    assert await read_all(storage, key, 9_990, 20_000) == data[-10:], "a range stops at the end"


async def test_a_long_range_is_streamed_in_chunks(storage: Storage) -> None:
    data = os.urandom(3 * MiB)
    key = original_key(new_id())
    await storage.save_bytes(key, data, "audio/mpeg")

    chunks = [chunk async for chunk in storage.read(key, 1, len(data) - 2)]

    assert len(chunks) > 1
    assert max(len(chunk) for chunk in chunks) < len(data) // 2
    assert b"".join(chunks) == data[1:-1]


async def test_a_range_past_the_end_or_of_a_missing_object_is_refused(storage: Storage) -> None:
    key = derived_key(new_id(), "thumb-320.webp")
    await storage.save_bytes(key, b"0123456789", "image/webp")

    with pytest.raises(RangeNotSatisfiable):
        await read_all(storage, key, 10, 20)
    with pytest.raises(ObjectNotFound):
        await read_all(storage, original_key(new_id()), 0, 10)
    with pytest.raises(ValueError, match="byte range"):
        await read_all(storage, key, 5, 4)


async def test_stat_tells_size_etag_and_time(storage: Storage) -> None:
    key = derived_key(new_id(), "hls/master.m3u8")
    assert await storage.stat(key) is None

    await storage.save_bytes(key, b"#EXTM3U\n", "application/vnd.apple.mpegurl")
    first = await storage.stat(key)
    await storage.save_bytes(key, b"#EXTM3U\n#EXT-X-VERSION:7\n", "application/vnd.apple.mpegurl")
    second = await storage.stat(key)

    assert first is not None
    assert second is not None
    assert (first.size, second.size) == (8, 25)
    assert first.etag
    assert first.etag != second.etag, "new content, new ETag"
    assert abs(second.modified - utcnow()) < timedelta(minutes=1)


async def test_fetching_a_missing_object_fails_and_writes_nothing(
    storage: Storage, tmp_path: Path
) -> None:
    destination = tmp_path / "missing.bin"

    with pytest.raises(ObjectNotFound):
        await storage.fetch(original_key(new_id()), destination)

    assert not destination.exists()
    assert not temporary_files(tmp_path)


async def test_delete_removes_and_a_missing_key_is_fine(storage: Storage) -> None:
    key = original_key(new_id())
    await storage.save_bytes(key, b"bytes", "video/mp4")

    await storage.delete(key)
    await storage.delete(key)
    await storage.delete(original_key(new_id()))

    assert await storage.stat(key) is None


async def test_delete_prefix_removes_one_assets_files_only(storage: Storage) -> None:
    doomed, kept = new_id(), new_id()
    segments = [f"hls/720p/segment-{n:05d}.ts" for n in range(1, PAGE_SIZE + 3)]
    names = ["poster.jpg", "hls/master.m3u8", "hls/720p/index.m3u8", *segments]
    for asset in (doomed, kept):
        for name in names:
            await storage.save_bytes(derived_key(asset, name), b"x", "application/octet-stream")
    await storage.save_bytes(original_key(doomed), b"x", "video/mp4")

    await storage.delete_prefix(derived_prefix(doomed))

    assert await listed(storage, derived_prefix(doomed)) == []
    assert await storage.stat(original_key(doomed)) is not None
    assert await listed(storage, derived_prefix(kept)) == sorted(
        str(derived_key(kept, name)) for name in names
    )


async def test_keys_lists_every_page_in_order(storage: Storage) -> None:
    asset = new_id()
    segments = [derived_key(asset, f"hls/1080p/segment-{n:05d}.ts") for n in range(1, 26)]
    others = [derived_key(asset, name) for name in ("hls/1080p/index.m3u8", "thumb-640.jpg")]
    for key in [*segments, *others]:
        await storage.save_bytes(key, b"", "video/mp2t")

    everything = await listed(storage, derived_prefix(asset))
    some = await listed(storage, f"{derived_prefix(asset)}hls/1080p/segment-0001")

    # More keys than a page holds on S3 (`PAGE_SIZE`), in S3's order: by the key's bytes.
    assert everything == sorted(map(str, [*segments, *others]))
    assert some == [str(key) for key in segments[9:19]]
    assert await listed(storage, f"{derived_prefix(new_id())}") == []


async def test_a_presigned_url_serves_the_object_with_its_headers(storage: Storage) -> None:
    key = original_key(new_id())
    await storage.save_bytes(key, b"ID3 audio bytes", "application/octet-stream")

    url = await storage.presigned_url(key, content_type="audio/mpeg", filename="Café night.mp3")

    if isinstance(storage, LocalStorage):
        assert url is None, "local files are served by the application"
        return
    assert url is not None
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
        ranged = await client.get(url, headers={"Range": "bytes=4-8"})
        tampered = await client.get(url.replace("audio%2Fmpeg", "text%2Fhtml"))
    assert response.status_code == 200
    assert response.content == b"ID3 audio bytes"
    assert response.headers["content-type"] == "audio/mpeg"
    assert response.headers["content-disposition"] == content_disposition("Café night.mp3")
    assert (ranged.status_code, ranged.content) == (206, b"audio")
    assert tampered.status_code == 403, "the signature covers the response headers"


async def test_the_store_checks_credentials(request: pytest.FixtureRequest) -> None:
    impostor = s3_storage(s3_server(request), secret_key="not-the-secret-key")
    try:
        with pytest.raises(StorageError, match="SignatureDoesNotMatch"):
            await impostor.save_bytes(original_key(new_id()), b"x", "video/mp4")
    finally:
        await impostor.aclose()


async def test_local_files_are_private_to_the_service_and_folders_tidy(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    asset = new_id()
    key = derived_key(asset, "hls/720p/segment-00001.ts")
    await storage.save_bytes(key, b"segment", "video/mp2t")

    path = tmp_path / "media" / key
    assert path.stat().st_mode & 0o777 == 0o640
    assert os.listdir(path.parent) == ["segment-00001.ts"], "no temporary file is left"

    await storage.delete(key)

    assert not (tmp_path / "media" / "derived").exists(), "emptied folders are removed"
    assert (tmp_path / "media").is_dir()


async def test_a_file_from_another_filesystem_is_copied_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path / "media")
    source = tmp_path / "upload.bin"
    source.write_bytes(b"from elsewhere")
    rename = os.replace

    def across_devices(src: str | Path, dst: str | Path) -> None:
        if Path(src) == source:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        rename(src, dst)

    monkeypatch.setattr(local_module.os, "replace", across_devices)
    key = original_key(new_id())

    await storage.save(key, source)

    assert not source.exists()
    assert (tmp_path / "media" / key).read_bytes() == b"from elsewhere"
    assert (tmp_path / "media" / key).stat().st_mode & 0o777 == 0o640


async def test_local_storage_never_writes_outside_its_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "media", tmp_path / "outside"
    outside.mkdir()
    storage = LocalStorage(root)
    asset = new_id()
    # A symlink planted in the tree must not carry writes out of it.
    (root / "derived").mkdir(parents=True)
    (root / "derived" / str(asset)).symlink_to(outside)

    with pytest.raises(InvalidMediaKey):
        await storage.save_bytes(derived_key(asset, "poster.jpg"), b"x", "image/jpeg")
    with pytest.raises(InvalidMediaKey):
        await storage.save_bytes(cast(MediaKey, "../outside/escaped"), b"x", "text/plain")
    with pytest.raises(InvalidMediaKey):
        await storage.delete_prefix("../")

    assert list(outside.iterdir()) == []
    assert await listed(storage, "") == []


def test_settings_choose_the_backend(tmp_path: Path) -> None:
    local = create_storage(Settings(media_dir=tmp_path / "media"))
    s3 = create_storage(
        Settings(
            media_backend="s3",
            s3_endpoint_url="http://127.0.0.1:8333",
            s3_access_key_id="key",
            s3_secret_access_key="secret",
        )
    )

    assert isinstance(local, LocalStorage)
    assert local.root == (tmp_path / "media").resolve()
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.presign_seconds) == ("dreamlust-media", 300)


@pytest.mark.parametrize(
    "overrides",
    [
        {"s3_access_key_id": "key"},
        {"s3_presign_seconds": 0},
        {"s3_presign_seconds": 8 * 24 * 3600},
        {"s3_bucket": "Not_A_Bucket"},
        {"s3_endpoint_url": "ftp://store"},
    ],
)
def test_s3_settings_are_checked(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"(?i)s3"):
        Settings(media_backend="s3", **overrides)


ASSET = UUID("01930f6e-8f3a-7c4e-9b1d-2a3b4c5d6e7f")


@pytest.mark.parametrize(
    "name",
    [
        "poster.jpg",
        "poster.webp",
        "thumb-320.webp",
        "thumb-1280.jpg",
        "hls/master.m3u8",
        "hls/720p/index.m3u8",
        "hls/2160p/init.mp4",
        "hls/720p/segment-00001.ts",
        "hls/480p/segment-12345.m4s",
    ],
)
def test_derived_files_have_keys_under_their_asset(name: str) -> None:
    key = derived_key(ASSET, name)

    assert key == f"derived/{ASSET}/{name}"
    assert key.asset_id == ASSET
    assert MediaKey(str(key)) == key


@pytest.mark.parametrize(
    "name",
    [
        "",
        "../poster.jpg",
        "hls/../../originals/x",
        "/etc/passwd",
        "hls\\master.m3u8",
        "poster.jpg\x00.png",
        "poster.jpg/",
        "hls//master.m3u8",
        "./poster.jpg",
        "Poster.JPG",
        "thumb-0320.webp",
        "thumb-320.svg",
        "hls/720p/segment-1.ts",
        "poster.jpeg",
        "pöster.jpg",
        "my holiday.jpg",
    ],
)
def test_a_derived_name_outside_the_allow_list_is_refused(name: str) -> None:
    with pytest.raises(InvalidMediaKey):
        derived_key(ASSET, name)


@pytest.mark.parametrize(
    "text",
    [
        f"originals/{ASSET}/../../etc",
        f"originals/{ASSET}/",
        f"originals/{str(ASSET).upper()}",
        "originals/not-a-uuid",
        f"/originals/{ASSET}",
        f"originals\\{ASSET}",
        f"derived/{ASSET}",
        f"derived/{ASSET}/notes.txt",
        f"elsewhere/{ASSET}",
        f"originals/{ASSET}\x00",
        "",
    ],
)
def test_a_key_the_application_would_not_make_is_refused(text: str) -> None:
    with pytest.raises(InvalidMediaKey):
        MediaKey(text)


def test_an_original_has_the_asset_in_its_key() -> None:
    key = original_key(ASSET)

    assert key == f"originals/{ASSET}"
    assert key.asset_id == ASSET


@pytest.mark.parametrize("prefix", ["", "originals/", "derived/", f"derived/{ASSET}/hls/", "or"])
def test_safe_prefixes_pass(prefix: str) -> None:
    assert check_prefix(prefix) == prefix


@pytest.mark.parametrize(
    "prefix", ["../", "..", "/", "/originals/", "derived/../", "./", "a\\b", "a\x00", "a//b", "é"]
)
def test_unsafe_prefixes_are_refused(prefix: str) -> None:
    with pytest.raises(InvalidMediaKey):
        check_prefix(prefix)


@pytest.mark.parametrize(
    ("filename", "download", "header"),
    [
        ("clip.mp4", False, "inline; filename=\"clip.mp4\"; filename*=UTF-8''clip.mp4"),
        (
            'Café "live".mp4',
            True,
            "attachment; filename=\"Cafe _live_.mp4\"; filename*=UTF-8''Caf%C3%A9%20%22live%22.mp4",
        ),
        ("東京.mp3", False, "inline; filename=\"_.mp3\"; filename*=UTF-8''%E6%9D%B1%E4%BA%AC.mp3"),
    ],
)
def test_content_disposition_keeps_the_name_and_a_plain_fallback(
    filename: str, download: bool, header: str
) -> None:
    assert content_disposition(filename, download=download) == header
