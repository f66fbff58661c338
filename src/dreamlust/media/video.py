"""Video with ffmpeg: a poster frame and HLS renditions (H.264/AAC in MPEG-TS segments).

The master playlist is written here, not by ffmpeg, so that it names each rendition's
playlist by the relative path the HLS route serves (`720p/index.m3u8`) and states the
bandwidth measured on the segments actually made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dreamlust.media.tools import run_tool

# Rendition heights offered below the source's own.
LADDER = (1080, 720, 480, 360, 240)
LOWER_RENDITIONS = 2
SEGMENT_SECONDS = 4
# The smallest height a rendition may have (and its folder name, `<height>p`, allows).
MIN_HEIGHT = 100
_AUDIO_BITRATE = "128k"
_MIN_VIDEO_KBPS = 400
# Peak video bitrate per thousand pixels of a frame: about 3 Mbit/s at 720p.
_KBPS_PER_KILOPIXEL = 3.2
_EXTINF = re.compile(r"#EXTINF:([0-9.]+)")


@dataclass(frozen=True, slots=True)
class Rendition:
    width: int
    height: int
    # Peak and average bits per second over the rendition's segments.
    bandwidth: int = 0
    average_bandwidth: int = 0

    @property
    def folder(self) -> str:
        return f"{self.height}p"


def poster_time(duration: float | None) -> float:
    """Where the poster frame is taken: a tenth into the video, past black intros."""
    return round(duration * 0.1, 3) if duration else 0.0


async def extract_poster(
    ffmpeg: str, source: Path, destination: Path, at: float, *, time_limit: float
) -> None:
    """A JPEG of the frame at `at` seconds (the first frame when that yields nothing)."""
    for seconds in dict.fromkeys((at, 0.0)):
        await run_tool(
            ffmpeg,
            [
                *("-nostdin", "-hide_banner", "-loglevel", "error", "-y"),
                *("-ss", f"{seconds:.3f}", "-i", str(source)),
                *("-map", "0:V:0", "-frames:v", "1", "-q:v", "2", str(destination)),
            ],
            time_limit=time_limit,
        )
        if _has_content(destination):
            return


def _has_content(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def plan_renditions(width: int, height: int) -> list[Rendition]:
    """The source's height and at most two lower ones of the ladder, highest first, each
    with the source's aspect ratio and even dimensions."""
    heights = [_even(height)]
    heights += [step for step in LADDER if step < heights[0]][:LOWER_RENDITIONS]
    return [
        Rendition(width=max(2, _even(width * step / height)), height=step)
        for step in heights
        if step >= MIN_HEIGHT
    ]


async def transcode_hls(
    ffmpeg: str, source: Path, out: Path, renditions: list[Rendition], *, time_limit: float
) -> list[Rendition]:
    """Every rendition in one ffmpeg run (the source is decoded once) into
    `out/<height>p/index.m3u8` and `segment-NNNNN.ts`; then `out/master.m3u8`. Returns the
    renditions with their measured bandwidth."""
    splits = "".join(f"[s{n}]" for n in range(len(renditions)))
    scales = ";".join(
        f"[s{n}]scale={r.width}:{r.height},format=yuv420p[v{n}]" for n, r in enumerate(renditions)
    )
    arguments = [
        *("-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source)),
        *("-filter_complex", f"[0:V:0]split={len(renditions)}{splits};{scales}"),
    ]
    for number, rendition in enumerate(renditions):
        folder = out / rendition.folder
        folder.mkdir(parents=True, exist_ok=True)
        kbps = _peak_kbps(rendition)
        arguments += [
            *("-map", f"[v{number}]", "-map", "0:a:0?"),
            *("-c:v", "libx264", "-preset", "veryfast", "-profile:v", "high", "-crf", "21"),
            *("-maxrate", f"{kbps}k", "-bufsize", f"{2 * kbps}k"),
            *("-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})"),
            *("-c:a", "aac", "-b:a", _AUDIO_BITRATE, "-ac", "2"),
            *("-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_playlist_type", "vod"),
            *("-hls_list_size", "0", "-start_number", "1"),
            *("-hls_flags", "independent_segments"),
            *("-hls_segment_filename", str(folder / "segment-%05d.ts")),
            str(folder / "index.m3u8"),
        ]
    await run_tool(ffmpeg, arguments, time_limit=time_limit)
    measured = [_measure(out / r.folder, r) for r in renditions]
    (out / "master.m3u8").write_text(master_playlist(measured))
    return measured


def master_playlist(renditions: list[Rendition]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for rendition in renditions:
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={rendition.bandwidth},"
            f"AVERAGE-BANDWIDTH={rendition.average_bandwidth},"
            f"RESOLUTION={rendition.width}x{rendition.height}"
        )
        lines.append(f"{rendition.folder}/index.m3u8")
    return "\n".join(lines) + "\n"


def _measure(folder: Path, rendition: Rendition) -> Rendition:
    """The rendition with the peak and average bitrate of its segments, read from its
    playlist (durations) and the segment files (sizes)."""
    peak, total_bits, total_seconds = 0.0, 0, 0.0
    seconds: float | None = None
    for line in (folder / "index.m3u8").read_text().splitlines():
        if match := _EXTINF.match(line):
            seconds = float(match.group(1))
        elif line and not line.startswith("#") and seconds:
            bits = (folder / line).stat().st_size * 8
            peak = max(peak, bits / seconds)
            total_bits += bits
            total_seconds += seconds
            seconds = None
    average = total_bits / total_seconds if total_seconds else 0.0
    return Rendition(
        width=rendition.width,
        height=rendition.height,
        bandwidth=round(peak),
        average_bandwidth=round(average),
    )


def _peak_kbps(rendition: Rendition) -> int:
    return max(
        _MIN_VIDEO_KBPS, round(rendition.width * rendition.height / 1000 * _KBPS_PER_KILOPIXEL)
    )


def _even(value: float) -> int:
    return int(round(value / 2) * 2)
