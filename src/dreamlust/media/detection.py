"""What a file is, from its first bytes alone.

The name and the Content-Type a client sends are never asked: they say what the client
claims, the magic numbers say what a decoder will see. Each signature belongs to one
family (image, video, audio). A head that matches no signature, or signatures of more
than one kind (a GIF that also parses as an MPEG transport stream, an image whose head
carries HTML or script for a browser to sniff), is refused.

Only the head is looked at: a JPEG with a ZIP appended is a JPEG here. What is served
of an image is what the processing step re-encodes from its pixels, never the upload,
so bytes trailing the image go nowhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

# How much of a file detection reads (less when the file is shorter).
HEAD_BYTES = 4096


class Family(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


@dataclass(frozen=True, slots=True)
class Detected:
    mime_type: str
    family: Family


class UnknownType(ValueError):
    """The head matches no accepted format."""


class AmbiguousType(ValueError):
    """The head matches more than one format: a polyglot."""


_JPEG = Detected("image/jpeg", Family.IMAGE)
_PNG = Detected("image/png", Family.IMAGE)
_GIF = Detected("image/gif", Family.IMAGE)
_WEBP = Detected("image/webp", Family.IMAGE)
_HEIC = Detected("image/heic", Family.IMAGE)
_AVIF = Detected("image/avif", Family.IMAGE)
_MP4 = Detected("video/mp4", Family.VIDEO)
_QUICKTIME = Detected("video/quicktime", Family.VIDEO)
_WEBM = Detected("video/webm", Family.VIDEO)
_MATROSKA = Detected("video/x-matroska", Family.VIDEO)
_MPEG_TS = Detected("video/mp2t", Family.VIDEO)
_OGG_VIDEO = Detected("video/ogg", Family.VIDEO)
_MP3 = Detected("audio/mpeg", Family.AUDIO)
_AAC = Detected("audio/aac", Family.AUDIO)
_M4A = Detected("audio/mp4", Family.AUDIO)
_WAV = Detected("audio/wav", Family.AUDIO)
_FLAC = Detected("audio/flac", Family.AUDIO)
_OGG_AUDIO = Detected("audio/ogg", Family.AUDIO)
# Markup a browser may render or run when it sniffs a file; no image, video or audio
# header holds it (XMP metadata is `<?xpacket`/`<x:xmpmeta`, which these do not match).
_MARKUP = "markup"
_MARKUP_PATTERN = re.compile(
    rb"<(?:script|html|!doctype|svg|body|iframe|\?php)[\s>/]", re.IGNORECASE
)

_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_AUDIO_MP4_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A "})
_VIDEO_MP4_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"mp71",
        b"avc1",
        b"dash",
        b"M4V ",
        b"M4VH",
        b"M4VP",
        b"MSNV",
        b"NDAS",
        b"f4v ",
        b"3gp4",
        b"3gp5",
        b"3gp6",
        b"3g2a",
        b"3g2b",
        b"3g2c",
        b"mmp4",
    }
)
# QuickTime files made before `ftyp` existed start with one of these atoms.
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide"})
_TS_PACKET = 188
# MPEG audio frame headers: sync bits, then MPEG-1/2/2.5 layer III (MP3) or ADTS (AAC).
_MP3_SYNC = frozenset({0xFB, 0xFA, 0xF3, 0xF2, 0xE3, 0xE2})
_ADTS_SYNC = frozenset({0xF1, 0xF9})


def detect(head: bytes) -> Detected:
    """The format of a file whose first bytes (up to `HEAD_BYTES`) are `head`."""
    head = head[:HEAD_BYTES]
    formats = {match for signature in _SIGNATURES if (match := signature(head)) is not None}
    names = sorted(match.mime_type for match in formats)
    if _MARKUP_PATTERN.search(head):
        names.append(_MARKUP)
    if len(names) > 1:
        raise AmbiguousType(f"the file's first bytes read as several formats: {', '.join(names)}")
    if not formats:
        raise UnknownType("the file's first bytes match no accepted image, video or audio format")
    return formats.pop()


def _jpeg(head: bytes) -> Detected | None:
    return _JPEG if head.startswith(b"\xff\xd8\xff") else None


def _png(head: bytes) -> Detected | None:
    return _PNG if head.startswith(b"\x89PNG\r\n\x1a\n") else None


def _gif(head: bytes) -> Detected | None:
    return _GIF if head.startswith((b"GIF87a", b"GIF89a")) else None


def _riff(head: bytes) -> Detected | None:
    if not head.startswith(b"RIFF") or len(head) < 12:
        return None
    return {b"WEBP": _WEBP, b"WAVE": _WAV}.get(head[8:12])


def _iso_media(head: bytes) -> Detected | None:
    """ISO base media (MP4, MOV, M4A, HEIF, AVIF): an `ftyp` box first, whose major
    brand says what the file is."""
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[0:4], "big")
    if size < 16 or size % 4:
        return None
    major = head[8:12]
    if major in _HEIF_BRANDS:
        return _HEIC
    if major in _AVIF_BRANDS:
        return _AVIF
    if major in _AUDIO_MP4_BRANDS:
        return _M4A
    if major == b"qt  ":
        return _QUICKTIME
    if major in _VIDEO_MP4_BRANDS:
        return _MP4
    return None


def _old_quicktime(head: bytes) -> Detected | None:
    if len(head) < 8 or head[4:8] not in _QUICKTIME_ATOMS:
        return None
    return _QUICKTIME if int.from_bytes(head[0:4], "big") >= 8 else None


def _ebml(head: bytes) -> Detected | None:
    """Matroska and WebM: an EBML header whose DocType names which."""
    if not head.startswith(b"\x1a\x45\xdf\xa3"):
        return None
    if b"\x42\x82\x84webm" in head:
        return _WEBM
    if b"\x42\x82\x88matroska" in head:
        return _MATROSKA
    return None


def _mpeg_ts(head: bytes) -> Detected | None:
    """An MPEG transport stream: sync bytes at the start of three packets in a row."""
    if len(head) <= 2 * _TS_PACKET:
        return None
    if all(head[index * _TS_PACKET] == 0x47 for index in range(3)):
        return _MPEG_TS
    return None


def _mpeg_audio(head: bytes) -> Detected | None:
    if head.startswith(b"ID3") and len(head) >= 10 and head[3] in (2, 3, 4):
        return _MP3
    if len(head) < 4 or head[0] != 0xFF:
        return None
    if head[1] in _MP3_SYNC and (head[2] >> 4) not in (0x0, 0xF) and (head[2] >> 2) & 3 != 3:
        return _MP3
    if head[1] in _ADTS_SYNC:
        return _AAC
    return None


def _flac(head: bytes) -> Detected | None:
    return _FLAC if head.startswith(b"fLaC") else None


def _ogg(head: bytes) -> Detected | None:
    if not head.startswith(b"OggS"):
        return None
    # The first page's packet names the codec: Theora is video, the rest audio.
    return _OGG_VIDEO if b"\x80theora" in head[:256] else _OGG_AUDIO


_SIGNATURES: tuple[Callable[[bytes], Detected | None], ...] = (
    _jpeg,
    _png,
    _gif,
    _riff,
    _iso_media,
    _old_quicktime,
    _ebml,
    _mpeg_ts,
    _mpeg_audio,
    _flac,
    _ogg,
)
