"""GET /content/{id}/hls/{path}: the HLS stream of a content's media, under the rules of
its media, and nothing but the stream's own files."""

from __future__ import annotations

import asyncio
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.media.storage import derived_key
from dreamlust.models import Content, Creator, MediaAsset, User
from dreamlust.models.enums import MediaAssetStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for
from tests.fixtures.factories import make_content, make_creator, make_subscription, make_user
from tests.fixtures.serving import served
from tests.fixtures.stored_media import (
    MASTER_PLAYLIST,
    RENDITION_PLAYLIST,
    S3_UPLOAD_WARNING,
    SEGMENT,
    MediaApp,
    store_asset,
    store_hls,
)

pytestmark = S3_UPLOAD_WARNING
PLAYLIST = "application/vnd.apple.mpegurl"


async def streamed(
    session: AsyncSession, app: MediaApp, **content_fields: Any
) -> tuple[Creator, User, Content, MediaAsset]:
    creator = await make_creator(session)
    owner = await session.get(User, creator.user_id)
    assert owner is not None
    content = await make_content(session, creator, **content_fields)
    media = await store_asset(session, app.storage, owner, b"original video", content=content)
    await store_hls(app.storage, media)
    await session.commit()
    return creator, owner, content, media


def hls(content: Content, path: str) -> str:
    return f"/api/v1/content/{content.id}/hls/{path}"


async def test_playlists_and_segments_are_served_with_their_types(
    session: AsyncSession, app: MediaApp
) -> None:
    _, _, content, _ = await streamed(session, app)

    master = await app.fetch(hls(content, "master.m3u8"))
    rendition = await app.fetch(hls(content, "720p/index.m3u8"))
    segment = await app.fetch(hls(content, "720p/segment-00000.ts"))

    assert (master.status_code, master.content) == (200, MASTER_PLAYLIST)
    assert (rendition.status_code, rendition.content) == (200, RENDITION_PLAYLIST)
    assert (segment.status_code, segment.content) == (200, SEGMENT)
    assert master.headers["content-type"] == PLAYLIST
    assert rendition.headers["content-type"] == PLAYLIST
    assert segment.headers["content-type"] == "video/mp2t"
    # Playlists are always asked again; segments never change.
    assert master.headers["cache-control"] == "private, no-cache"
    assert master.headers["x-content-type-options"] == "nosniff"
    if app.backend == "local":
        assert segment.headers["cache-control"] == "public, max-age=3600"


async def test_on_s3_playlists_are_relayed_and_segments_redirected(
    session: AsyncSession, app: MediaApp
) -> None:
    _, _, content, _ = await streamed(session, app)

    master = await app.client.get(hls(content, "master.m3u8"))
    segment = await app.client.get(hls(content, "720p/segment-00000.ts"))

    assert master.status_code == 200
    expected = 200 if app.backend == "local" else 307
    assert segment.status_code == expected
    if app.backend == "s3":
        assert segment.headers["cache-control"] == "private, no-store"


async def test_fragmented_mp4_parts_are_video_mp4(session: AsyncSession, app: MediaApp) -> None:
    _, _, content, media = await streamed(session, app)
    await app.storage.save_bytes(derived_key(media.id, "hls/720p/init.mp4"), b"ftyp", "video/mp4")

    response = await app.fetch(hls(content, "720p/init.mp4"))

    assert (response.status_code, response.content) == (200, b"ftyp")
    assert response.headers["content-type"] == "video/mp4"


async def test_premium_streams_reach_the_entitled_only(
    session: AsyncSession, app: MediaApp
) -> None:
    creator, owner, content, _ = await streamed(
        session, app, is_premium=True, price=Decimal("4.99"), currency="USD"
    )
    stranger = await make_user(session, birth_date=date(1990, 1, 1))
    subscriber = await make_user(session, birth_date=date(1990, 1, 1))
    await make_subscription(session, subscriber, creator)
    await session.commit()

    for path in ("master.m3u8", "720p/index.m3u8", "720p/segment-00000.ts"):
        assert (await app.client.get(hls(content, path))).status_code == 403
        refused = await app.client.get(
            hls(content, path), headers=headers_for(app.runtime, stranger)
        )
        assert refused.status_code == 403
        for entitled in (subscriber, owner):
            response = await app.fetch(
                hls(content, path), headers=headers_for(app.runtime, entitled)
            )
            assert response.status_code == 200, (path, entitled.username)
    segment = await app.fetch(
        hls(content, "720p/segment-00000.ts"), headers=headers_for(app.runtime, subscriber)
    )
    if app.backend == "local":
        assert segment.headers["cache-control"] == "private, max-age=3600"


async def test_a_stream_without_ready_media_or_visible_content_is_404(
    session: AsyncSession, app: MediaApp
) -> None:
    creator = await make_creator(session)
    owner = await session.get(User, creator.user_id)
    assert owner is not None
    processing = await make_content(session, creator)
    media = await store_asset(
        session,
        app.storage,
        owner,
        b"video",
        content=processing,
        status=MediaAssetStatus.PROCESSING,
    )
    await store_hls(app.storage, media)
    nsfw = await make_content(session, creator, is_nsfw=True)
    await store_hls(app.storage, await store_asset(session, app.storage, owner, b"v", content=nsfw))
    await session.commit()

    assert (await app.client.get(hls(processing, "master.m3u8"))).status_code == 404
    assert (await app.client.get(hls(nsfw, "master.m3u8"))).status_code == 404
    blurs = await make_user(
        session, birth_date=date(1990, 1, 1), preferences={"nsfw_policy": "blur"}
    )
    await session.commit()
    blurred = await app.client.get(
        hls(nsfw, "master.m3u8"), headers=headers_for(app.runtime, blurs)
    )
    assert blurred.status_code == 404
    # A listed item whose rendition is not there.
    _, _, content, _ = await streamed(session, app)
    assert (await app.client.get(hls(content, "1080p/index.m3u8"))).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "%2e%2e/%2e%2e/originals",
        "720p/%2e%2e/master.m3u8",
        "..%2f..%2foriginals",
        "%2fetc%2fpasswd",
        "/etc/passwd",
        "master.m3u8%00",
        "master.m3u8/",
        "secret.m3u8",
        "720p/segment-1.ts",
        "720p/index.m3u8%3Fx=1",
        "poster.jpg",
        "720p\\index.m3u8",
        "",
    ],
)
async def test_only_the_stream_s_own_files_can_be_named(
    session: AsyncSession, app: MediaApp, path: str
) -> None:
    _, owner, content, _ = await streamed(session, app)

    response = await app.client.get(hls(content, path), headers=headers_for(app.runtime, owner))

    assert response.status_code == 404, response.text


async def test_dot_segments_sent_as_they_are_are_404(
    session: AsyncSession, settings: Settings, runtime: Runtime
) -> None:
    """Clients normalise `..` away before sending; a raw request keeps it."""
    creator = await make_creator(session)
    owner = await session.get(User, creator.user_id)
    assert owner is not None
    content = await make_content(session, creator)
    media = await store_asset(session, runtime.storage, owner, b"video", content=content)
    await store_hls(runtime.storage, media)
    await session.commit()
    application = create_app(settings, runtime=runtime)

    async with served(application):
        for path in (
            f"/api/v1/content/{content.id}/hls/../../../media/{media.id}",
            f"/api/v1/content/{content.id}/hls/720p/../../originals/{media.id}",
            f"/api/v1/content/{content.id}/hls/./master.m3u8",
        ):
            assert await raw_status(application, path) == 404, path
        ok = await raw_status(application, f"/api/v1/content/{content.id}/hls/master.m3u8")
        assert ok == 200


async def raw_status(application: FastAPI, path: str) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    statuses: list[int] = []
    requested = False
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
        elif not message.get("more_body", False):
            done.set()

    await application(scope, receive, send)
    return statuses[0]
