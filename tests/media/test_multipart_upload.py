"""Single-request uploads, the hostile intake matrix (tus and multipart), and the list
of a content item's assets."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.media.storage import original_key
from dreamlust.models.enums import ContentType, MediaAssetKind, MediaAssetStatus, UserRole
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.runtimes import own_runtime
from tests.fixtures.serving import served
from tests.fixtures.uploads import (
    Creator,
    assets_of,
    create_upload,
    creator_with_content,
    jpeg_bytes,
    mp4_bytes,
    patch,
    png_bytes,
    send_whole,
    staged,
    stored_originals,
)


async def _form(
    client: httpx.AsyncClient,
    creator: Creator,
    data: bytes,
    *,
    filename: str = "clip.mp4",
    content_type: str = "video/mp4",
    path: str = "media",
) -> httpx.Response:
    return await client.post(
        f"/api/v1/content/{creator.content.id}/{path}",
        files={"file": (filename, data, content_type)},
        data={"caption": "ignored"},
        headers=creator.headers,
    )


@pytest.fixture
async def small_limits(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        own_runtime(
            settings, max_single_request_upload_bytes=20_000, max_upload_bytes=50_000
        ) as runtime,
        served(create_app(settings, runtime=runtime)) as client,
    ):
        yield client


class LeftBehind:
    """What intake leaves in the staging folder and in storage, from now on."""

    def __init__(self, settings: Settings, runtime: Runtime) -> None:
        self.settings = settings
        self.runtime = runtime
        self.staged = staged(settings)
        self.stored: set[str] = set()

    async def start(self) -> LeftBehind:
        self.stored = await stored_originals(self.runtime.storage)
        return self

    async def nothing(self) -> bool:
        return (
            staged(self.settings) == self.staged
            and await stored_originals(self.runtime.storage) == self.stored
        )


async def test_a_small_file_in_one_request_is_stored_and_handed_on(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime, ContentType.PHOTO)
    image = jpeg_bytes()
    response = await _form(
        client, creator, image, filename="holiday.jpg", content_type="image/jpeg"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "PROCESSING"
    assert body["kind"] == "MEDIA"
    assert (body["mime_type"], body["file_size"]) == ("image/jpeg", len(image))
    assert body["original_filename"] == "holiday.jpg"
    assert body["content_id"] == str(creator.content.id)

    [asset] = await assets_of(session, creator.content)
    assert asset.checksum_sha256 == hashlib.sha256(image).hexdigest()
    key = original_key(asset.id)
    assert b"".join([c async for c in runtime.storage.read(key, 0, len(image))]) == image
    assert str(asset.id) not in staged(settings)
    await runtime.storage.delete(key)


async def test_a_thumbnail_is_an_image(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    left = await LeftBehind(settings, runtime).start()
    thumbnail = await _form(
        client, creator, png_bytes(), filename="t.png", content_type="image/png", path="thumbnail"
    )
    assert thumbnail.status_code == 201, thumbnail.text
    assert (thumbnail.json()["kind"], thumbnail.json()["mime_type"]) == ("THUMBNAIL", "image/png")
    await runtime.storage.delete(original_key(thumbnail.json()["id"]))

    video = await _form(client, creator, mp4_bytes(5000), path="thumbnail")
    assert video.status_code == 415
    not_a_form = await client.post(
        f"/api/v1/content/{creator.content.id}/thumbnail",
        content=png_bytes(),
        headers={**creator.headers, "Content-Type": "image/png"},
    )
    assert not_a_form.status_code == 415
    assert await left.nothing()


async def test_a_form_without_the_file_field_is_invalid(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    creator = await creator_with_content(session, runtime)
    response = await client.post(
        creator.media_url,
        files={"upload": ("clip.mp4", mp4_bytes(5000), "video/mp4")},
        headers=creator.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "file"]


async def test_files_over_the_single_request_limit_are_refused(
    small_limits: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    left = await LeftBehind(settings, runtime).start()
    response = await _form(small_limits, creator, mp4_bytes(30_000))
    assert response.status_code == 413
    assert "tus" in response.json()["detail"]
    assert await assets_of(session, creator.content) == []
    assert await left.nothing()


async def test_staff_and_the_owner_read_why_processing_failed(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    creator = await creator_with_content(session, runtime)
    await create_upload(client, creator, 1000)
    [asset] = await assets_of(session, creator.content)
    asset.status = MediaAssetStatus.FAILED
    asset.failure = "The video stream could not be decoded."
    await session.commit()

    moderator = await make_account(session, UserRole.MODERATOR)
    stranger = await make_account(session)
    for headers in (creator.headers, headers_for(runtime, moderator)):
        listed = await client.get(creator.media_url, headers=headers)
        assert listed.status_code == 200, listed.text
        [item] = listed.json()["items"]
        assert (item["status"], item["failure"]) == ("FAILED", asset.failure)
        assert listed.json()["next_cursor"] is None
    assert (
        await client.get(creator.media_url, headers=headers_for(runtime, stranger))
    ).status_code == 404


# The hostile intake matrix: each refused file leaves no row and no file behind.


@pytest.mark.parametrize("way", ["tus", "multipart"])
async def test_a_png_claimed_as_video_is_refused(
    way: str, client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    left = await LeftBehind(settings, runtime).start()
    if way == "tus":
        _, response = await send_whole(client, creator, png_bytes(), filename="clip.mp4")
        assert response is not None
    else:
        response = await _form(client, creator, png_bytes(), filename="clip.mp4")
    assert response.status_code == 415
    assert "image/png" in response.json()["detail"]
    assert await assets_of(session, creator.content) == []
    assert await left.nothing()


@pytest.mark.parametrize("way", ["tus", "multipart"])
async def test_bytes_that_match_nothing_are_refused(
    way: str, client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    left = await LeftBehind(settings, runtime).start()
    noise = bytes(range(256)) * 40
    if way == "tus":
        _, response = await send_whole(client, creator, noise)
        assert response is not None
    else:
        response = await _form(client, creator, noise)
    assert response.status_code == 415
    assert await assets_of(session, creator.content) == []
    assert await left.nothing()


async def test_a_head_too_short_to_tell_waits_for_more_bytes(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    """The type is decided once 4 KiB (or the whole file) arrived; a mismatch then ends
    the upload."""
    creator = await creator_with_content(session, runtime)
    left = await LeftBehind(settings, runtime).start()
    image = png_bytes(400, 400) + bytes(8000)
    created = await create_upload(client, creator, len(image))
    location = created.headers["Location"]
    first = await patch(client, location, creator, 0, image[:100])
    assert (first.status_code, first.headers["Upload-Offset"]) == (204, "100")
    second = await patch(client, location, creator, 100, image[100:5000])
    assert second.status_code == 415
    assert (
        await client.head(location, headers={**creator.headers, "Tus-Resumable": "1.0.0"})
    ).status_code == 404
    assert await left.nothing()


async def test_a_jpeg_with_a_zip_appended_is_a_jpeg(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    """Detection reads the head: this is a JPEG. Processing re-encodes images from their
    pixels, so the appended archive is never served."""
    creator = await creator_with_content(session, runtime, ContentType.PHOTO)
    polyglot = jpeg_bytes() + b"PK\x03\x04" + bytes(200) + b"PK\x05\x06" + bytes(18)
    _, response = await send_whole(client, creator, polyglot, filename="photo.jpg")
    assert response is not None
    assert response.status_code == 204
    [asset] = await assets_of(session, creator.content)
    assert (asset.mime_type, asset.status) == ("image/jpeg", MediaAssetStatus.PROCESSING)
    await runtime.storage.delete(original_key(asset.id))


async def test_a_jpeg_carrying_html_is_refused(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime, ContentType.PHOTO)
    left = await LeftBehind(settings, runtime).start()
    image = jpeg_bytes()
    polyglot = image[:2] + b"\xff\xfe\x00\x20<html><script>alert(1)</script>" + image[2:]
    response = await _form(client, creator, polyglot, filename="x.jpg", content_type="image/jpeg")
    assert response.status_code == 415
    assert "markup" in response.json()["detail"]
    assert await left.nothing()


async def test_a_path_in_the_file_name_is_only_display_text(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    outside = settings.upload_dir.parent
    before = set(outside.iterdir())
    created, response = await send_whole(
        client, creator, mp4_bytes(6000), filename="../../etc/passwd\x07"
    )
    assert response is not None
    assert response.status_code == 204
    [asset] = await assets_of(session, creator.content)
    assert asset.original_filename == "passwd"
    assert asset.storage_key == f"originals/{asset.id}"
    assert created.json()["original_filename"] == "passwd"
    assert set(outside.iterdir()) == before
    form = await _form(client, creator, mp4_bytes(6000), filename="..\\..\\boot.ini")
    assert form.json()["original_filename"] == "boot.ini"
    for stored in await assets_of(session, creator.content):
        await runtime.storage.delete(original_key(stored.id))


async def test_an_oversized_declared_length_is_refused_before_any_byte(
    small_limits: httpx.AsyncClient, runtime: Runtime, session: AsyncSession, settings: Settings
) -> None:
    creator = await creator_with_content(session, runtime)
    left = await LeftBehind(settings, runtime).start()
    response = await create_upload(small_limits, creator, 50_001)
    assert response.status_code == 413
    assert await assets_of(session, creator.content) == []
    photo = await creator_with_content(session, runtime, ContentType.PHOTO)
    image_limit = runtime.settings.max_image_bytes
    assert (await create_upload(small_limits, photo, image_limit + 1)).status_code == 413
    assert await left.nothing()


async def test_the_kind_must_fit_the_content(
    client: httpx.AsyncClient, runtime: Runtime, session: AsyncSession
) -> None:
    audio = await creator_with_content(session, runtime, ContentType.AUDIO)
    tone = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(3000)
    response = await _form(client, audio, tone, filename="a.mp3", content_type="audio/mpeg")
    assert response.status_code == 201, response.text
    assert response.json()["mime_type"] == "audio/mpeg"
    await runtime.storage.delete(original_key(response.json()["id"]))
    assert (await _form(client, audio, mp4_bytes(4000))).status_code == 415
    vr = await creator_with_content(session, runtime, ContentType.VR)
    vr_video = await _form(client, vr, mp4_bytes(4000))
    assert vr_video.status_code == 201
    assert vr_video.json()["kind"] == MediaAssetKind.MEDIA
    await runtime.storage.delete(original_key(vr_video.json()["id"]))
