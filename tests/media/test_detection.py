"""Types from the first bytes: every accepted format, and what is refused."""

from __future__ import annotations

import os

import pytest

from dreamlust.media.detection import AmbiguousType, Family, UnknownType, detect
from dreamlust.media.uploads import display_name
from tests.fixtures.uploads import MP4_HEAD, jpeg_bytes, png_bytes


def _ftyp(brand: bytes) -> bytes:
    return b"\x00\x00\x00\x18ftyp" + brand + b"\x00\x00\x00\x00" + brand + b"\x00" * 64


def _ebml(doctype: bytes) -> bytes:
    return b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82" + bytes([0x80 | len(doctype)]) + doctype


def _ts() -> bytes:
    return b"".join(b"\x47" + os.urandom(187) for _ in range(4))


@pytest.mark.parametrize(
    ("head", "mime_type", "family"),
    [
        (jpeg_bytes(), "image/jpeg", Family.IMAGE),
        (png_bytes(), "image/png", Family.IMAGE),
        (b"GIF89a\x01\x00\x01\x00" + bytes(20), "image/gif", Family.IMAGE),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(20), "image/webp", Family.IMAGE),
        (_ftyp(b"heic"), "image/heic", Family.IMAGE),
        (_ftyp(b"avif"), "image/avif", Family.IMAGE),
        (MP4_HEAD + bytes(100), "video/mp4", Family.VIDEO),
        (_ftyp(b"qt  "), "video/quicktime", Family.VIDEO),
        (b"\x00\x00\x00\x08wide" + bytes(20), "video/quicktime", Family.VIDEO),
        (_ebml(b"webm"), "video/webm", Family.VIDEO),
        (_ebml(b"matroska"), "video/x-matroska", Family.VIDEO),
        (_ts(), "video/mp2t", Family.VIDEO),
        (b"OggS\x00\x02" + bytes(22) + b"\x80theora" + bytes(20), "video/ogg", Family.VIDEO),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(100), "audio/mpeg", Family.AUDIO),
        (b"\xff\xfb\x90\x64" + bytes(100), "audio/mpeg", Family.AUDIO),
        (b"\xff\xf1\x50\x80" + bytes(100), "audio/aac", Family.AUDIO),
        (_ftyp(b"M4A "), "audio/mp4", Family.AUDIO),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(20), "audio/wav", Family.AUDIO),
        (b"fLaC\x00\x00\x00\x22" + bytes(40), "audio/flac", Family.AUDIO),
        (b"OggS\x00\x02" + bytes(22) + b"OpusHead" + bytes(20), "audio/ogg", Family.AUDIO),
    ],
)
def test_each_accepted_format_is_recognized(head: bytes, mime_type: str, family: Family) -> None:
    detected = detect(head)
    assert (detected.mime_type, detected.family) == (mime_type, family)


@pytest.mark.parametrize(
    "head",
    [
        b"",
        os.urandom(4096).replace(b"\xff", b"\x00"),
        b"PK\x03\x04" + bytes(100),  # a ZIP
        b"%PDF-1.7\n" + bytes(100),
        b"<!DOCTYPE html><html><body>hi</body></html>",
        b"\x7fELF" + bytes(100),
        b"BM" + bytes(100),  # BMP: not accepted
        _ftyp(b"zzzz"),  # an unknown ISO brand
        b"\x1a\x45\xdf\xa3" + bytes(40),  # EBML without a known DocType
    ],
)
def test_what_matches_no_accepted_format_is_unknown(head: bytes) -> None:
    with pytest.raises(UnknownType):
        detect(head)


def test_a_head_of_two_formats_is_a_polyglot() -> None:
    gif_and_ts = bytearray(b"GIF89a" + bytes(600))
    gif_and_ts[188] = gif_and_ts[376] = 0x47
    with pytest.raises(AmbiguousType, match="image/gif, video/mp2t"):
        detect(bytes(gif_and_ts))
    with pytest.raises(AmbiguousType, match="markup"):
        detect(png_bytes()[:40] + b"<script>alert(1)</script>")


def test_only_the_head_is_read() -> None:
    assert detect(jpeg_bytes() + bytes(5000) + b"<html>" * 1000).mime_type == "image/jpeg"


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("holiday.jpg", "holiday.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ann\\clip.mp4", "clip.mp4"),
        ("bell\x07\u202eexe.mp4", "bellexe.mp4"),
        ("  café.mp4 ", "café.mp4"),
        ("..", None),
        ("", None),
        (None, None),
        ("a" * 300 + ".mp4", "a" * 255),
    ],
)
def test_file_names_are_display_text_only(given: str | None, shown: str | None) -> None:
    assert display_name(given) == shown
