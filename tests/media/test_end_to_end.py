"""From upload to playback through the API: a creator uploads a 5-second video in one
request, the worker makes it READY, and the HLS the content detail points to plays,
segment by segment, for a subscriber, and is refused to a stranger."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.models.enums import ContentStatus, SubscriptionTier
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import headers_for, make_account
from tests.fixtures.factories import make_content, make_subscription
from tests.fixtures.media_files import ffprobe_ok, make_video, require_ffmpeg
from tests.fixtures.money import API, paid_creator
from tests.fixtures.processing import run_processing


async def _playlist_entries(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.apple.mpegurl")
    return [line for line in response.text.splitlines() if line and not line.startswith("#")]


async def test_an_uploaded_video_is_processed_and_its_hls_plays_for_those_entitled(
    client: httpx.AsyncClient, session: AsyncSession, runtime: Runtime, tmp_path: Path
) -> None:
    require_ffmpeg()
    creator, owner = await paid_creator(session)
    item = await make_content(
        session,
        creator,
        title="Premium harbour",
        status=ContentStatus.DRAFT,
        is_premium=True,
        premium_tier=SubscriptionTier.BASIC,
    )
    subscriber, stranger = await make_account(session), await make_account(session)
    await make_subscription(session, subscriber, creator)
    await session.commit()
    video = make_video(tmp_path / "harbour.mp4")

    uploaded = await client.post(
        f"{API}/content/{item.id}/media",
        files={"file": ("holiday.mp4", video.read_bytes(), "application/octet-stream")},
        headers=headers_for(runtime, owner),
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["status"] == "PROCESSING"
    assert uploaded.json()["mime_type"] == "video/mp4"
    publish = f"{API}/content/{item.id}/publish"
    assert (await client.post(publish, headers=headers_for(runtime, owner))).status_code == 409

    await run_processing(runtime)
    published = await client.post(publish, headers=headers_for(runtime, owner))
    assert published.status_code == 200, published.text
    detail = await client.get(f"{API}/content/{item.id}", headers=headers_for(runtime, subscriber))
    assert detail.status_code == 200, detail.text
    master_path = detail.json()["streaming_info"]["hls"]
    assert detail.json()["duration"] == 5

    viewer = headers_for(runtime, subscriber)
    renditions = await _playlist_entries(await client.get(master_path, headers=viewer))
    assert renditions
    base = master_path.rsplit("/", 1)[0]
    rendition_base = f"{base}/{renditions[0].rsplit('/', 1)[0]}"
    segments = await _playlist_entries(await client.get(f"{base}/{renditions[0]}", headers=viewer))
    assert segments
    for number, segment in enumerate(segments):
        response = await client.get(f"{rendition_base}/{segment}", headers=viewer)
        assert response.status_code == 200, response.text
        played = tmp_path / f"segment-{number}.ts"
        played.write_bytes(response.content)
        assert ffprobe_ok(played)

    for outsider in (headers_for(runtime, stranger), {}):
        assert (await client.get(master_path, headers=outsider)).status_code in (403, 404)
        refused = await client.get(f"{rendition_base}/{segments[0]}", headers=outsider)
        assert refused.status_code in (403, 404)
