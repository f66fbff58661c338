"""Uploaded video and audio in the worker: measured by ffprobe, given a poster,
thumbnails, a BlurHash and HLS renditions that play."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.media.probe import parse_probe
from dreamlust.media.storage import MediaKey, derived_key
from dreamlust.media.video import plan_renditions
from dreamlust.models.enums import (
    ContentType,
    MediaAssetKind,
    MediaAssetStatus,
    VRProjection,
    VRStereoFormat,
)
from dreamlust.runtime import Runtime
from tests.fixtures.media_files import ffprobe_ok, make_audio, make_video, require_ffmpeg
from tests.fixtures.processing import (
    derived_rows,
    reloaded_asset,
    reloaded_content,
    run_processing,
    waiting_asset,
)

API = "/api/v1"


@pytest.fixture(scope="session")
def test_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five seconds of ffmpeg's test pattern, 640x360, with a tone."""
    require_ffmpeg()
    return make_video(tmp_path_factory.mktemp("video") / "test.mp4")


async def test_a_video_becomes_a_stream_that_plays(
    session: AsyncSession, runtime: Runtime, test_video: Path, tmp_path: Path
) -> None:
    waiting = await waiting_asset(session, runtime, path=test_video, mime_type="video/mp4")

    await run_processing(runtime)

    asset = await reloaded_asset(session, waiting.asset)
    assert asset.status is MediaAssetStatus.READY, asset.failure
    assert (asset.duration, asset.width, asset.height) == (5, 640, 360)
    assert asset.details is not None
    assert (asset.details["video_codec"], asset.details["audio_codec"]) == ("h264", "aac")

    derived = {row.storage_key.rsplit("/", 1)[1]: row for row in await derived_rows(session, asset)}
    assert {name: (row.kind, row.width, row.height) for name, row in derived.items()} == {
        "poster.jpg": (MediaAssetKind.POSTER, 640, 360),
        "thumb-320.webp": (MediaAssetKind.THUMBNAIL, 320, 180),
        "thumb-1280.webp": (MediaAssetKind.THUMBNAIL, 640, 360),
    }
    assert all(row.status is MediaAssetStatus.READY for row in derived.values())

    content = await reloaded_content(session, waiting.content)
    assert content.media_url == f"{API}/media/{asset.id}"
    assert (content.duration, content.width, content.height) == (5, 640, 360)
    assert (content.media_type, content.file_size) == ("video/mp4", asset.file_size)
    assert content.thumbnail_url == f"{API}/media/{derived['thumb-1280.webp'].id}"
    assert content.blur_placeholder
    assert content.streaming_info is not None
    assert content.streaming_info["hls"] == f"{API}/content/{content.id}/hls/master.m3u8"
    renditions = content.streaming_info["renditions"]
    assert [(r["width"], r["height"]) for r in renditions] == [(640, 360), (426, 240)]
    assert all(r["bandwidth"] >= r["average_bandwidth"] > 0 for r in renditions)

    # The playlists and segments, copied out of storage as a player would see them.
    hls = tmp_path / "hls"
    master = await _copy(runtime, derived_key(asset.id, "hls/master.m3u8"), hls / "master.m3u8")
    listed = [line for line in master.read_text().splitlines() if not line.startswith("#")]
    assert listed == ["360p/index.m3u8", "240p/index.m3u8"]
    for rendition in listed:
        index = await _copy(runtime, derived_key(asset.id, f"hls/{rendition}"), hls / rendition)
        segments = [line for line in index.read_text().splitlines() if not line.startswith("#")]
        assert segments
        assert all(re.fullmatch(r"segment-\d{5}\.ts", segment) for segment in segments)
        for segment in segments:
            name = f"hls/{index.parent.name}/{segment}"
            copied = await _copy(runtime, derived_key(asset.id, name), index.parent / segment)
            assert ffprobe_ok(copied)["format_name"] == "mpegts"
        played = ffprobe_ok(index)
        assert played["format_name"] == "hls"
        assert float(played["duration"]) == pytest.approx(5, abs=0.5)
    assert ffprobe_ok(master)["format_name"] == "hls"


async def test_audio_is_measured(session: AsyncSession, runtime: Runtime, tmp_path: Path) -> None:
    require_ffmpeg()
    audio = make_audio(tmp_path / "tone.m4a", seconds=3)
    waiting = await waiting_asset(
        session, runtime, path=audio, mime_type="audio/mp4", content_type=ContentType.AUDIO
    )

    await run_processing(runtime)

    asset = await reloaded_asset(session, waiting.asset)
    assert asset.status is MediaAssetStatus.READY, asset.failure
    assert asset.duration == 3
    assert asset.details is not None
    assert asset.details["audio_codec"] == "aac"
    assert await derived_rows(session, asset) == []
    content = await reloaded_content(session, waiting.content)
    assert (content.duration, content.media_type) == (3, "audio/mp4")
    assert content.media_url == f"{API}/media/{asset.id}"
    assert content.streaming_info is None


def test_vr_hints_and_rotation_are_read_from_ffprobe() -> None:
    probed = parse_probe(
        {
            "format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "12.2"},
            "streams": [
                {
                    "codec_type": "video",
                    "codec_name": "h264",
                    "width": 3840,
                    "height": 1920,
                    "side_data_list": [
                        {"side_data_type": "Display Matrix", "rotation": -90},
                        {"side_data_type": "Spherical Mapping", "projection": "equirectangular"},
                        {"side_data_type": "Stereo 3D", "type": "top and bottom"},
                    ],
                },
                {"codec_type": "audio", "codec_name": "aac", "channels": 2},
            ],
        }
    )
    assert probed.video is not None
    assert (probed.video.width, probed.video.height, probed.video.rotation) == (1920, 3840, 270)
    assert (probed.projection, probed.stereo) == (
        VRProjection.EQUIRECTANGULAR_360,
        VRStereoFormat.TOP_BOTTOM,
    )
    assert probed.whole_seconds == 13
    matroska = parse_probe(
        {
            "format": {"format_name": "matroska,webm", "duration": "3.0"},
            "streams": [
                {
                    "codec_type": "video",
                    "codec_name": "vp9",
                    "width": 1000,
                    "height": 500,
                    "tags": {"stereo_mode": "left_right"},
                }
            ],
        }
    )
    assert (matroska.projection, matroska.stereo) == (None, VRStereoFormat.SIDE_BY_SIDE)


def test_renditions_are_the_source_and_two_lower_ones() -> None:
    assert [(r.width, r.height) for r in plan_renditions(1920, 1080)] == [
        (1920, 1080),
        (1280, 720),
        (854, 480),
    ]
    assert [r.height for r in plan_renditions(1280, 544)] == [544, 480, 360]
    assert [r.height for r in plan_renditions(1080, 1920)] == [1920, 1080, 720]
    assert plan_renditions(160, 90) == []


async def _copy(runtime: Runtime, key: MediaKey, destination: Path) -> Path:
    destination.parent.mkdir(parents=True, exist_ok=True)
    await runtime.storage.fetch(key, destination)
    return destination
