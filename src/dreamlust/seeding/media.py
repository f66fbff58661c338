"""Type-appropriate media metadata: durations, sizes, resolutions and VR formats."""

from __future__ import annotations

import uuid
from typing import Any

from dreamlust.models.enums import ContentType, VRProjection, VRStereoFormat
from dreamlust.seeding.catalog import IMAGE_BASE, MEDIA_BASE
from dreamlust.seeding.context import Row, SeedContext

_VIDEO_FORMATS = (
    (1920, 1080, 6_000),
    (3840, 2160, 16_000),
    (1280, 720, 3_000),
    (1080, 1920, 5_000),
)
_VR_FORMATS = ((5760, 2880, 40_000), (7680, 3840, 60_000), (4096, 2048, 25_000))
_VR_LAYOUTS = (
    (VRProjection.EQUIRECTANGULAR_180, VRStereoFormat.SIDE_BY_SIDE),
    (VRProjection.EQUIRECTANGULAR_180, VRStereoFormat.SIDE_BY_SIDE),
    (VRProjection.EQUIRECTANGULAR_360, VRStereoFormat.TOP_BOTTOM),
    (VRProjection.EQUIRECTANGULAR_360, VRStereoFormat.MONO),
    (VRProjection.FISHEYE, VRStereoFormat.SIDE_BY_SIDE),
    (VRProjection.CUBEMAP, VRStereoFormat.MONO),
)
_PHOTO_SIZES = ((4000, 6000), (6000, 4000), (3024, 4032), (4032, 3024), (2048, 2048))
_AUDIO_KBPS = 320
_PLACEHOLDER_COLORS = (
    "2b2d42",
    "8d99ae",
    "ef233c",
    "3a0ca3",
    "4361ee",
    "f4a261",
    "2a9d8f",
    "e9c46a",
)


def media_fields(ctx: SeedContext, content_id: uuid.UUID, kind: ContentType) -> Row:
    """Every media column of a content row, filled as an upload of this type would fill it."""
    rng = ctx.rng
    fields: Row = {
        "media_url": None,
        "media_type": None,
        "duration": None,
        "file_size": None,
        "width": None,
        "height": None,
        "vr_projection": None,
        "vr_stereo_format": None,
        "streaming_info": None,
    }
    base = f"{MEDIA_BASE}/{content_id}"
    if kind is ContentType.PHOTO:
        width, height = rng.choice(_PHOTO_SIZES)
        fields |= {
            "media_url": f"{base}/original.jpg",
            "media_type": "image/jpeg",
            "file_size": rng.randint(1_500_000, 9_000_000),
            "width": width,
            "height": height,
        }
    elif kind is ContentType.AUDIO:
        duration = _duration(ctx, median=600, low=60, high=3_600)
        fields |= {
            "media_url": f"{base}/audio.mp3",
            "media_type": "audio/mpeg",
            "duration": duration,
            "file_size": duration * _AUDIO_KBPS * 125,
            "streaming_info": {"protocol": "progressive", "bitrate_kbps": _AUDIO_KBPS},
        }
    elif kind is ContentType.VR:
        width, height, kbps = rng.choice(_VR_FORMATS)
        projection, stereo = rng.choice(_VR_LAYOUTS)
        duration = _duration(ctx, median=900, low=120, high=2_400)
        fields |= _video(base, duration, width, height, kbps) | {
            "vr_projection": projection,
            "vr_stereo_format": stereo,
        }
    elif kind is ContentType.LIVE_STREAM:
        duration = _duration(ctx, median=3_600, low=900, high=10_800)
        fields |= _video(base, duration, 1920, 1080, 6_000)
        fields["media_type"] = "application/vnd.apple.mpegurl"
        fields["streaming_info"] = _streaming_info(base, 1080) | {
            "live": False,
            "recording_available": True,
            "peak_viewers": rng.randint(5, 900),
        }
    else:
        width, height, kbps = rng.choice(_VIDEO_FORMATS)
        fields |= _video(base, _duration(ctx, median=300, low=15, high=2_700), width, height, kbps)
    return fields


def thumbnail_url(content_id: uuid.UUID, width: int | None, height: int | None) -> str:
    if width and height and height > width:
        return f"{IMAGE_BASE}/{content_id.hex}/360/640"
    return f"{IMAGE_BASE}/{content_id.hex}/640/360"


def blur_placeholder(ctx: SeedContext) -> str:
    """A tiny two-tone SVG, the kind of placeholder shown instead of an NSFW thumbnail."""
    first, second = ctx.rng.sample(_PLACEHOLDER_COLORS, 2)
    return (
        "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 2 1'%3E"
        f"%3Crect width='2' height='1' fill='%23{first}'/%3E"
        f"%3Crect x='1' width='1' height='1' fill='%23{second}' opacity='.6'/%3E%3C/svg%3E"
    )


def _duration(ctx: SeedContext, *, median: int, low: int, high: int) -> int:
    return max(low, min(high, round(median * ctx.rng.lognormvariate(0, 0.6))))


def _video(base: str, duration: int, width: int, height: int, kbps: int) -> dict[str, Any]:
    return {
        "media_url": f"{base}/video.mp4",
        "media_type": "video/mp4",
        "duration": duration,
        "file_size": duration * kbps * 125,
        "width": width,
        "height": height,
        "streaming_info": _streaming_info(base, min(width, height)),
    }


def _streaming_info(base: str, lines: int) -> dict[str, Any]:
    renditions = [f"{rung}p" for rung in (2160, 1440, 1080, 720, 480, 360) if rung <= lines]
    return {
        "protocol": "hls",
        "manifest_url": f"{base}/hls/master.m3u8",
        "renditions": renditions or ["360p"],
    }
