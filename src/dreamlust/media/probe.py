"""What ffprobe says about a video or audio file, in the terms processing needs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from dreamlust.media.tools import run_tool
from dreamlust.models.enums import VRProjection, VRStereoFormat

# Codecs of still pictures: a "video" stream in one of these is an image or cover art.
_IMAGE_CODECS = frozenset({"png", "mjpeg", "bmp", "gif", "webp", "tiff", "jpeg2000", "jpegls"})
_PROJECTIONS = {
    "equirectangular": VRProjection.EQUIRECTANGULAR_360,
    "equirect": VRProjection.EQUIRECTANGULAR_360,
    "cubemap": VRProjection.CUBEMAP,
    "fisheye": VRProjection.FISHEYE,
}
_STEREO = {
    "mono": VRStereoFormat.MONO,
    "2d": VRStereoFormat.MONO,
    "side by side": VRStereoFormat.SIDE_BY_SIDE,
    "left_right": VRStereoFormat.SIDE_BY_SIDE,
    "right_left": VRStereoFormat.SIDE_BY_SIDE,
    "sbs": VRStereoFormat.SIDE_BY_SIDE,
    "top and bottom": VRStereoFormat.TOP_BOTTOM,
    "top_bottom": VRStereoFormat.TOP_BOTTOM,
    "bottom_top": VRStereoFormat.TOP_BOTTOM,
    "tb": VRStereoFormat.TOP_BOTTOM,
}


class ProbeError(Exception):
    """ffprobe could not make sense of the file."""


@dataclass(frozen=True, slots=True)
class VideoStream:
    codec: str
    # As displayed: a stream rotated by 90° has its coded width and height swapped.
    width: int
    height: int
    rotation: int


@dataclass(frozen=True, slots=True)
class AudioStream:
    codec: str
    channels: int | None
    sample_rate: int | None


@dataclass(frozen=True, slots=True)
class Probe:
    formats: frozenset[str]
    duration: float | None
    video: VideoStream | None
    audio: AudioStream | None
    # True when the only pictures in the file are stills (an image, cover art).
    only_stills: bool
    projection: VRProjection | None
    stereo: VRStereoFormat | None

    @property
    def whole_seconds(self) -> int | None:
        """The duration rounded up to whole seconds."""
        return math.ceil(self.duration) if self.duration else None


async def probe(ffprobe: str, path: Path, *, time_limit: float) -> Probe:
    output = await run_tool(
        ffprobe,
        ["-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        time_limit=time_limit,
    )
    try:
        document = orjson.loads(output)
    except orjson.JSONDecodeError as exc:
        raise ProbeError("ffprobe printed no JSON") from exc
    return parse_probe(document)


def parse_probe(document: dict[str, Any]) -> Probe:
    fmt = document.get("format") or {}
    streams: list[dict[str, Any]] = document.get("streams") or []
    pictures = [s for s in streams if s.get("codec_type") == "video"]
    moving = [s for s in pictures if not _is_still(s)]
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    video = moving[0] if moving else None
    hints = [fmt.get("tags") or {}, (video or {}).get("tags") or {}]
    side_data: list[dict[str, Any]] = (video or {}).get("side_data_list") or []
    return Probe(
        formats=frozenset(str(fmt.get("format_name", "")).split(",")) - {""},
        duration=_duration(fmt, video or audio),
        video=_video(video, side_data) if video else None,
        audio=_audio(audio) if audio else None,
        only_stills=bool(pictures) and not moving,
        projection=_projection(side_data, hints),
        stereo=_stereo(side_data, hints),
    )


def _is_still(stream: dict[str, Any]) -> bool:
    disposition = stream.get("disposition") or {}
    return bool(disposition.get("attached_pic")) or stream.get("codec_name") in _IMAGE_CODECS


def _duration(fmt: dict[str, Any], stream: dict[str, Any] | None) -> float | None:
    for source in (fmt, stream or {}):
        try:
            seconds = float(source.get("duration", "nan"))
        except (TypeError, ValueError):
            continue
        if math.isfinite(seconds) and seconds > 0:
            return seconds
    return None


def _video(stream: dict[str, Any], side_data: list[dict[str, Any]]) -> VideoStream:
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    rotation = _rotation(stream, side_data)
    if rotation % 180:
        width, height = height, width
    return VideoStream(
        codec=str(stream.get("codec_name", "unknown")),
        width=width,
        height=height,
        rotation=rotation,
    )


def _rotation(stream: dict[str, Any], side_data: list[dict[str, Any]]) -> int:
    for item in side_data:
        if "rotation" in item:
            return int(float(item["rotation"])) % 360
    tag = (stream.get("tags") or {}).get("rotate")
    try:
        return int(tag) % 360 if tag is not None else 0
    except ValueError:
        return 0


def _audio(stream: dict[str, Any]) -> AudioStream:
    rate = stream.get("sample_rate")
    return AudioStream(
        codec=str(stream.get("codec_name", "unknown")),
        channels=stream.get("channels"),
        sample_rate=int(rate) if rate and str(rate).isdigit() else None,
    )


def _projection(
    side_data: list[dict[str, Any]], hints: list[dict[str, Any]]
) -> VRProjection | None:
    for item in side_data:
        if "projection" in item:
            return _PROJECTIONS.get(str(item["projection"]).lower())
    for tags in hints:
        for name, value in tags.items():
            lowered = str(name).lower()
            if "projection" in lowered:
                return _PROJECTIONS.get(str(value).lower())
            if "spherical" in lowered and str(value).lower() in {"1", "true", "yes"}:
                return VRProjection.EQUIRECTANGULAR_360
    return None


def _stereo(side_data: list[dict[str, Any]], hints: list[dict[str, Any]]) -> VRStereoFormat | None:
    for item in side_data:
        if item.get("side_data_type") == "Stereo 3D" and "type" in item:
            return _STEREO.get(str(item["type"]).lower())
    for tags in hints:
        for name, value in tags.items():
            if str(name).lower() in {"stereo_mode", "stereo-mode", "stereo3d"}:
                return _STEREO.get(str(value).lower())
    return None
