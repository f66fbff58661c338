"""Uploaded images in the worker: turned upright, stripped of their metadata, given
thumbnails and a BlurHash; and a draft waits for its media before it is published."""

from __future__ import annotations

import hashlib
from pathlib import Path

import blurhash  # type: ignore[import-untyped]
import httpx
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.media.storage import MediaKey, original_key
from dreamlust.models.enums import ContentStatus, ContentType, MediaAssetKind, MediaAssetStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for
from tests.fixtures.media_files import image_bytes, jpeg_with_exif, truncated
from tests.fixtures.processing import (
    derived_rows,
    reloaded_asset,
    reloaded_content,
    run_processing,
    waiting_asset,
)

API = "/api/v1"


def _reddish(pixel: tuple[int, ...]) -> bool:
    return pixel[0] > 150 and pixel[2] < 100


def _bluish(pixel: tuple[int, ...]) -> bool:
    return pixel[2] > 150 and pixel[0] < 100


async def test_a_rotated_jpeg_with_gps_becomes_upright_and_anonymous(
    session: AsyncSession, runtime: Runtime, tmp_path: Path
) -> None:
    # Stored 2000x1000, red left and blue right; EXIF orientation 6 says "turn right".
    waiting = await waiting_asset(
        session,
        runtime,
        data=jpeg_with_exif((2000, 1000)),
        mime_type="image/jpeg",
        content_type=ContentType.PHOTO,
    )

    await run_processing(runtime)

    asset = await reloaded_asset(session, waiting.asset)
    assert asset.status is MediaAssetStatus.READY, asset.failure
    assert (asset.width, asset.height, asset.mime_type) == (1000, 2000, "image/jpeg")
    stored = tmp_path / "stored.jpg"
    await runtime.storage.fetch(original_key(asset.id), stored)
    with Image.open(stored) as image:
        assert image.size == (1000, 2000)
        assert not image.getexif()
        assert not image.getexif().get_ifd(0x8825)
        assert "exif" not in image.info
        assert "xmp" not in image.info
        rgb = image.convert("RGB")
        # Turned right: what was the left (red) is now on top.
        assert _reddish(rgb.getpixel((500, 300)))  # type: ignore[arg-type]
        assert _bluish(rgb.getpixel((500, 1700)))  # type: ignore[arg-type]
    data = stored.read_bytes()
    assert b"TestCam" not in data
    assert asset.file_size == len(data)
    assert asset.checksum_sha256 == hashlib.sha256(data).hexdigest()

    thumbnails = await derived_rows(session, asset)
    assert [(t.kind, t.status, t.mime_type) for t in thumbnails] == [
        (MediaAssetKind.THUMBNAIL, MediaAssetStatus.READY, "image/webp")
    ] * 2
    # Widths 320 and 1280 asked for; the image is 1000 wide and never enlarged.
    by_key = {t.storage_key.rsplit("/", 1)[1]: t for t in thumbnails}
    assert {name: (t.width, t.height) for name, t in by_key.items()} == {
        "thumb-1280.webp": (1000, 2000),
        "thumb-320.webp": (320, 640),
    }
    for thumbnail in thumbnails:
        stat = await runtime.storage.stat(MediaKey(thumbnail.storage_key))
        assert stat is not None
        assert stat.size == thumbnail.file_size

    content = await reloaded_content(session, waiting.content)
    assert content.media_url == f"{API}/media/{asset.id}"
    assert content.thumbnail_url == f"{API}/media/{by_key['thumb-1280.webp'].id}"
    assert (content.width, content.height, content.media_type) == (1000, 2000, "image/jpeg")
    assert content.file_size == asset.file_size
    assert content.blur_placeholder is not None
    assert blurhash.components(content.blur_placeholder) == (3, 4)
    assert content.version == 2  # made at 1; one new version for the measured fields


async def test_a_png_keeps_its_format_and_transparency(
    session: AsyncSession, runtime: Runtime, tmp_path: Path
) -> None:
    image = Image.new("RGBA", (300, 200), (0, 200, 0, 128))
    source = tmp_path / "in.png"
    image.save(source, "PNG")
    waiting = await waiting_asset(
        session, runtime, path=source, mime_type="image/png", content_type=ContentType.PHOTO
    )

    await run_processing(runtime)

    asset = await reloaded_asset(session, waiting.asset)
    assert (asset.status, asset.mime_type, asset.width, asset.height) == (
        MediaAssetStatus.READY,
        "image/png",
        300,
        200,
    )
    stored = tmp_path / "stored.png"
    await runtime.storage.fetch(original_key(asset.id), stored)
    with Image.open(stored) as cleaned:
        assert (cleaned.format, cleaned.mode) == ("PNG", "RGBA")


async def test_a_custom_thumbnail_is_processed_for_its_content(
    session: AsyncSession, runtime: Runtime
) -> None:
    waiting = await waiting_asset(
        session,
        runtime,
        data=image_bytes((640, 360), "JPEG"),
        mime_type="image/jpeg",
        content_type=ContentType.VIDEO,
        kind=MediaAssetKind.THUMBNAIL,
    )

    await run_processing(runtime)

    asset = await reloaded_asset(session, waiting.asset)
    assert asset.status is MediaAssetStatus.READY, asset.failure
    large = next(t for t in await derived_rows(session, asset) if t.width == 640)
    content = await reloaded_content(session, waiting.content)
    assert content.thumbnail_url == f"{API}/media/{large.id}"
    assert content.blur_placeholder is not None
    # A thumbnail is not the content's media.
    assert content.media_url is None


async def test_publishing_waits_for_the_media(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    waiting = await waiting_asset(
        session,
        runtime,
        data=image_bytes((640, 480), "JPEG"),
        mime_type="image/jpeg",
        content_type=ContentType.PHOTO,
    )
    publish = f"{API}/content/{waiting.content.id}/publish"
    headers = headers_for(runtime, waiting.owner)

    early = await client.post(publish, headers=headers)
    assert early.status_code == 409
    assert early.json()["detail"] == "The media is still being processed."

    await run_processing(runtime)

    published = await client.post(publish, headers=headers)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == ContentStatus.PUBLISHED.value


async def test_publishing_refuses_failed_media_with_its_reason(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime
) -> None:
    waiting = await waiting_asset(
        session,
        runtime,
        data=truncated(image_bytes((640, 480), "JPEG")),
        mime_type="image/jpeg",
        content_type=ContentType.PHOTO,
    )
    await run_processing(runtime)
    asset = await reloaded_asset(session, waiting.asset)
    assert asset.status is MediaAssetStatus.FAILED

    refused = await client.post(
        f"{API}/content/{waiting.content.id}/publish", headers=headers_for(runtime, waiting.owner)
    )

    assert refused.status_code == 409
    assert refused.json()["detail"] == f"The media could not be processed: {asset.failure}"
