"""tus 1.0 uploads: a real tus client resuming a 50 MB upload after two interruptions,
on local and S3 storage, and every protocol rule a client can break."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession
from tusclient.client import TusClient

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.media.storage import StorageError, original_key
from dreamlust.models.enums import ContentType, MediaAssetKind, MediaAssetStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.s3 import s3_server
from tests.fixtures.serving import listening
from tests.fixtures.uploads import (
    TUS,
    Creator,
    MiB,
    Sha256Uploader,
    assets_of,
    create_upload,
    creator_with_content,
    file_sha256,
    mp4_bytes,
    patch,
    read_stored,
    sha256_header,
    staged,
)

# aioboto3 sends the parts of a multipart upload to S3 as raw bytes over 1 MiB, which
# aiohttp warns about: harmless here.
pytestmark = pytest.mark.filterwarnings("ignore:Sending a large body directly:ResourceWarning")
SIZE = 50 * MiB
CHUNK = 5 * MiB


@pytest.fixture(params=["local", "s3"])
async def any_runtime(
    request: pytest.FixtureRequest, runtime: Runtime, settings: Settings
) -> AsyncIterator[Runtime]:
    """The suite's runtime (local storage), or one whose storage is the test S3 store."""
    if request.param == "local":
        yield runtime
        return
    server = s3_server(request)
    async with own_runtime(
        settings,
        media_backend="s3",
        s3_endpoint_url=server.endpoint_url,
        s3_bucket=server.bucket,
        s3_region=server.region,
        s3_access_key_id=server.access_key,
        s3_secret_access_key=SecretStr(server.secret_key),
    ) as s3_runtime:
        yield s3_runtime


@contextlib.asynccontextmanager
async def _opened(path: Path) -> AsyncIterator[BinaryIO]:
    with path.open("rb") as stream:
        yield stream


async def _head_offset(base_url: str, location: str, headers: dict[str, str]) -> int:
    async with httpx.AsyncClient(base_url=base_url) as http:
        response = await http.head(location, headers={**headers, **TUS})
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return int(response.headers["Upload-Offset"])


async def _cut_patch(
    base_url: str, location: str, headers: dict[str, str], offset: int, data: bytes
) -> None:
    """A PATCH announcing 5 MiB whose connection is cut after `data`."""
    address = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    lines = [
        f"PATCH {location} HTTP/1.1",
        f"Host: {address.netloc}",
        "Tus-Resumable: 1.0.0",
        "Content-Type: application/offset+octet-stream",
        f"Upload-Offset: {offset}",
        f"Content-Length: {CHUNK}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    del reader


async def _offset_becomes(
    base_url: str, location: str, headers: dict[str, str], expected: int
) -> None:
    for _ in range(200):
        if await _head_offset(base_url, location, headers) == expected:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"the offset never became {expected}")


async def test_a_50_mb_upload_survives_two_interruptions(
    any_runtime: Runtime, session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    runtime = any_runtime
    creator = await creator_with_content(session, runtime)
    source = tmp_path / "clip.mp4"
    source.write_bytes(mp4_bytes(SIZE))
    expected = file_sha256(source)

    async with (
        listening(create_app(settings, runtime=runtime)) as base_url,
        # tuspy leaves the files it opens itself to the garbage collector.
        _opened(source) as stream,
    ):
        client = TusClient(f"{base_url}{creator.media_url}", headers=creator.headers)
        first = Sha256Uploader(
            file_stream=stream,
            client=client,
            chunk_size=CHUNK,
            metadata={"filename": "clip.mp4"},
            upload_checksum=True,
        )
        # The client stops after three chunks.
        await asyncio.to_thread(first.upload, stop_at=3 * CHUNK)
        assert first.url is not None
        location = urlsplit(first.url).path
        assert await _head_offset(base_url, location, creator.headers) == 3 * CHUNK

        # A PATCH whose connection is cut midway keeps the bytes that arrived.
        with source.open("rb") as file:
            file.seek(3 * CHUNK)
            partial = file.read(2 * MiB)
        await _cut_patch(base_url, location, creator.headers, 3 * CHUNK, partial)
        await _offset_becomes(base_url, location, creator.headers, 3 * CHUNK + 2 * MiB)

        # A new client resumes from HEAD's offset, and is stopped again.
        def resumed() -> Sha256Uploader:
            return Sha256Uploader(
                file_stream=stream,
                client=client,
                url=first.url,
                chunk_size=CHUNK,
                upload_checksum=True,
            )

        second = await asyncio.to_thread(resumed)
        assert second.offset == 3 * CHUNK + 2 * MiB
        await asyncio.to_thread(second.upload, stop_at=7 * CHUNK)

        third = await asyncio.to_thread(resumed)
        assert third.offset == second.offset
        await asyncio.to_thread(third.upload)
        assert await _head_offset(base_url, location, creator.headers) == SIZE

    [asset] = await assets_of(session, creator.content)
    assert asset.status is MediaAssetStatus.PROCESSING
    assert asset.kind is MediaAssetKind.MEDIA
    assert (asset.mime_type, asset.file_size, asset.upload_offset) == ("video/mp4", SIZE, SIZE)
    assert asset.original_filename == "clip.mp4"
    assert asset.checksum_sha256 == expected
    assert asset.storage_key == original_key(asset.id)
    assert await read_stored(runtime.storage, asset.storage_key, SIZE) == expected
    assert str(asset.id) not in staged(settings)
    await runtime.storage.delete(original_key(asset.id))


async def test_options_tells_what_the_server_speaks(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.options("/api/v1/uploads/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Extension"] == "creation,termination,checksum"
    assert response.headers["Tus-Checksum-Algorithm"] == "sha256"
    assert response.headers["Tus-Max-Size"] == str(settings.max_upload_bytes)


async def test_creation_reserves_an_upload_and_head_reports_it(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    created = await create_upload(client, creator, 1000)
    assert created.status_code == 201, created.text
    assert created.headers["Tus-Resumable"] == "1.0.0"
    location = created.headers["Location"]
    asset_id = created.json()["id"]
    assert location == f"/api/v1/uploads/{asset_id}"
    assert created.json()["status"] == "UPLOADING"
    assert (settings.upload_dir / asset_id).stat().st_size == 0

    head = await client.head(location, headers={**creator.headers, **TUS})
    assert head.status_code == 200
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == ("0", "1000")
    assert head.headers["Cache-Control"] == "no-store"
    assert head.headers["Tus-Resumable"] == "1.0.0"


async def test_requests_without_tus_resumable_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    creator = await creator_with_content(session, runtime)
    created = await client.post(
        creator.media_url, headers={**creator.headers, "Upload-Length": "100"}
    )
    assert created.status_code == 412
    assert created.headers["Tus-Version"] == "1.0.0"
    location = (await create_upload(client, creator, 100)).headers["Location"]
    assert (await client.head(location, headers=creator.headers)).status_code == 412
    plain_patch = await client.patch(
        location,
        content=b"x",
        headers={
            **creator.headers,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0",
        },
    )
    assert plain_patch.status_code == 412
    assert (await client.delete(location, headers=creator.headers)).status_code == 412


async def test_an_offset_that_does_not_match_is_a_conflict(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    creator = await creator_with_content(session, runtime)
    data = mp4_bytes(10_000)
    location = (await create_upload(client, creator, len(data))).headers["Location"]
    assert (await patch(client, location, creator, 0, data[:5000])).headers[
        "Upload-Offset"
    ] == "5000"

    behind = await patch(client, location, creator, 0, data[:5000])
    ahead = await patch(client, location, creator, 6000, data[6000:])
    assert (behind.status_code, ahead.status_code) == (409, 409)
    assert behind.headers["content-type"] == "application/problem+json"
    finished = await patch(client, location, creator, 5000, data[5000:])
    assert (finished.status_code, finished.headers["Upload-Offset"]) == (204, "10000")


async def test_a_chunk_with_the_wrong_checksum_is_discarded(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    data = mp4_bytes(10_000)
    location = (await create_upload(client, creator, len(data))).headers["Location"]
    asset_id = location.rsplit("/", 1)[1]

    wrong = await patch(
        client, location, creator, 0, data[:6000], **{"Upload-Checksum": sha256_header(b"other")}
    )
    assert wrong.status_code == 460
    assert wrong.json()["type"] == "urn:dreamlust:problem:checksum-mismatch"
    assert (settings.upload_dir / asset_id).stat().st_size == 0
    head = await client.head(location, headers={**creator.headers, **TUS})
    assert head.headers["Upload-Offset"] == "0"

    sha1 = await patch(client, location, creator, 0, data, **{"Upload-Checksum": "sha1 AAAA"})
    assert sha1.status_code == 400
    right = await patch(
        client, location, creator, 0, data, **{"Upload-Checksum": sha256_header(data)}
    )
    assert (right.status_code, right.headers["Upload-Offset"]) == (204, "10000")


async def test_bytes_beyond_the_length_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    data = mp4_bytes(10_000)
    location = (await create_upload(client, creator, 8000)).headers["Location"]
    asset_id = location.rsplit("/", 1)[1]

    announced = await patch(client, location, creator, 0, data)
    assert announced.status_code == 413
    assert announced.headers["content-type"] == "application/problem+json"

    async def streamed() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 1000):
            yield data[start : start + 1000]

    # Without a Content-Length the body is counted as it comes.
    unannounced = await client.patch(
        location,
        content=streamed(),
        headers={
            **creator.headers,
            **TUS,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0",
        },
    )
    assert unannounced.status_code == 413
    assert (settings.upload_dir / asset_id).stat().st_size == 0
    head = await client.head(location, headers={**creator.headers, **TUS})
    assert head.headers["Upload-Offset"] == "0"


async def test_patch_needs_the_offset_content_type(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    creator = await creator_with_content(session, runtime)
    location = (await create_upload(client, creator, 100)).headers["Location"]
    response = await patch(
        client, location, creator, 0, b"x" * 10, **{"Content-Type": "application/octet-stream"}
    )
    assert response.status_code == 415


async def test_only_the_uploader_may_touch_an_upload(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    creator = await creator_with_content(session, runtime)
    location = (await create_upload(client, creator, 100)).headers["Location"]
    other = await make_account(session)
    stranger = Creator(other, creator.content, headers_for(runtime, other))

    assert (await client.head(location, headers={**stranger.headers, **TUS})).status_code == 404
    assert (await patch(client, location, stranger, 0, b"x")).status_code == 404
    assert (await client.delete(location, headers={**stranger.headers, **TUS})).status_code == 404
    assert (await create_upload(client, stranger, 100)).status_code == 404
    assert (await client.head(location, headers=TUS)).status_code == 401


async def test_termination_deletes_the_staged_file_and_the_row(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    data = mp4_bytes(10_000)
    location = (await create_upload(client, creator, len(data))).headers["Location"]
    asset_id = location.rsplit("/", 1)[1]
    await patch(client, location, creator, 0, data[:5000])
    assert (settings.upload_dir / asset_id).exists()

    deleted = await client.delete(location, headers={**creator.headers, **TUS})
    assert deleted.status_code == 204
    assert deleted.headers["Tus-Resumable"] == "1.0.0"
    assert not (settings.upload_dir / asset_id).exists()
    assert await assets_of(session, creator.content) == []
    assert (await client.head(location, headers={**creator.headers, **TUS})).status_code == 404


async def test_a_second_patch_while_one_is_writing_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    creator = await creator_with_content(session, runtime)
    data = mp4_bytes(10_000)
    location = (await create_upload(client, creator, len(data))).headers["Location"]
    writing = asyncio.Event()
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield data[:5000]
        writing.set()
        await release.wait()
        yield data[5000:6000]

    first = asyncio.create_task(
        client.patch(
            location,
            content=slow_body(),
            headers={
                **creator.headers,
                **TUS,
                "Content-Type": "application/offset+octet-stream",
                "Upload-Offset": "0",
            },
        )
    )
    await writing.wait()
    await asyncio.sleep(0.1)  # the first request holds the upload now
    second = await patch(client, location, creator, 0, data)
    release.set()
    assert second.status_code == 409
    assert second.json()["type"] == "urn:dreamlust:problem:upload-in-use"
    assert (await first).headers["Upload-Offset"] == "6000"
    rest = await patch(client, location, creator, 6000, data[6000:])
    assert rest.headers["Upload-Offset"] == "10000"


async def test_a_failed_store_is_completed_by_an_empty_patch(
    client: httpx.AsyncClient,
    runtime: Runtime,
    session: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    creator = await creator_with_content(session, runtime)
    data = mp4_bytes(10_000)
    location = (await create_upload(client, creator, len(data))).headers["Location"]
    save = runtime.storage.save

    async def broken(*_args: object, **_kwargs: object) -> None:
        raise StorageError("the store is down")

    monkeypatch.setattr(runtime.storage, "save", broken)
    failed = await patch(client, location, creator, 0, data)
    assert failed.status_code == 503
    [asset] = await assets_of(session, creator.content)
    assert (asset.status, asset.upload_offset) == (MediaAssetStatus.UPLOADING, 10_000)

    monkeypatch.setattr(runtime.storage, "save", save)
    retried = await patch(client, location, creator, 10_000, b"")
    assert (retried.status_code, retried.headers["Upload-Offset"]) == (204, "10000")
    [asset] = await assets_of(session, creator.content)
    assert asset.status is MediaAssetStatus.PROCESSING
    assert asset.checksum_sha256 == hashlib.sha256(data).hexdigest()
    again = await patch(client, location, creator, 10_000, b"")
    assert (again.status_code, again.headers["Upload-Offset"]) == (204, "10000")
    await runtime.storage.delete(original_key(asset.id))


async def test_live_streams_take_no_uploads(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    creator = await creator_with_content(session, runtime, ContentType.LIVE_STREAM)
    assert (await create_upload(client, creator, 100)).status_code == 409
