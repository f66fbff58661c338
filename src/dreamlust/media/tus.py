"""The tus 1.0 resumable upload protocol: its headers, parsed and checked.

Supported: the core protocol and the creation, termination and checksum (sha256)
extensions. Nothing here touches a file or the database.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping

from dreamlust.errors import BadRequest, DreamlustError, PreconditionFailed

VERSION = "1.0.0"
EXTENSIONS = "creation,termination,checksum"
CHECKSUM_ALGORITHMS = "sha256"
OFFSET_CONTENT_TYPE = "application/offset+octet-stream"
# The headers a browser client must be allowed to read (CORS).
# The headers a browser client on another origin must be able to read (CORS).
EXPOSED_HEADERS = (
    "Location",
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Extension",
    "Tus-Max-Size",
    "Tus-Checksum-Algorithm",
    "Upload-Offset",
    "Upload-Length",
)
_DIGITS = re.compile(r"[0-9]{1,19}")
_METADATA_KEY = re.compile(r"[!-+\--~]+")  # printable ASCII but space and comma
_MAX_METADATA_CHARS = 4096
_SHA256_BYTES = 32


class ChecksumMismatch(DreamlustError):
    """The chunk's bytes do not have the checksum its request announced."""

    status, slug = 460, "checksum-mismatch"


class UnsupportedChecksum(BadRequest):
    slug = "unsupported-checksum-algorithm"


def resumable_headers() -> dict[str, str]:
    """The header every tus response but OPTIONS carries."""
    return {"Tus-Resumable": VERSION}


def capabilities(max_size: int) -> dict[str, str]:
    """What OPTIONS tells a client about this server."""
    return {
        "Tus-Resumable": VERSION,
        "Tus-Version": VERSION,
        "Tus-Extension": EXTENSIONS,
        "Tus-Checksum-Algorithm": CHECKSUM_ALGORITHMS,
        "Tus-Max-Size": str(max_size),
    }


def require_version(headers: Mapping[str, str]) -> None:
    if headers.get("tus-resumable") != VERSION:
        raise PreconditionFailed(
            f"This server speaks tus {VERSION}: send `Tus-Resumable: {VERSION}`.",
            headers={"Tus-Version": VERSION},
        )


def upload_length(headers: Mapping[str, str]) -> int:
    if "upload-defer-length" in headers:
        raise BadRequest("Deferred lengths are not supported: send Upload-Length.")
    value = headers.get("upload-length")
    if value is None:
        raise BadRequest("Upload-Length is required.")
    return _non_negative(value, "Upload-Length")


def upload_offset(headers: Mapping[str, str]) -> int:
    value = headers.get("upload-offset")
    if value is None:
        raise BadRequest("Upload-Offset is required.")
    return _non_negative(value, "Upload-Offset")


def content_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("content-length")
    return None if value is None else _non_negative(value, "Content-Length")


def metadata(headers: Mapping[str, str]) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64(value)` pairs (the value optional).
    Values that are not UTF-8 text are kept as empty strings."""
    raw = headers.get("upload-metadata", "").strip()
    if not raw:
        return {}
    if len(raw) > _MAX_METADATA_CHARS:
        raise BadRequest("Upload-Metadata is too long.")
    pairs: dict[str, str] = {}
    for item in raw.split(","):
        key, _, encoded = item.strip().partition(" ")
        if not _METADATA_KEY.fullmatch(key) or key in pairs:
            raise BadRequest("Upload-Metadata is not a list of distinct `key base64` pairs.")
        try:
            value = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error as exc:
            raise BadRequest(f"Upload-Metadata: the value of {key!r} is not base64.") from exc
        try:
            pairs[key] = value.decode()
        except UnicodeDecodeError:
            pairs[key] = ""
    return pairs


def checksum(headers: Mapping[str, str]) -> bytes | None:
    """The SHA-256 digest announced by Upload-Checksum (`sha256 <base64>`), if any."""
    value = headers.get("upload-checksum")
    if value is None:
        return None
    algorithm, _, encoded = value.strip().partition(" ")
    if algorithm.lower() != CHECKSUM_ALGORITHMS:
        raise UnsupportedChecksum(f"Checksums are {CHECKSUM_ALGORITHMS}; not {algorithm!r}.")
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        digest = b""
    if len(digest) != _SHA256_BYTES:
        raise BadRequest("Upload-Checksum is not `sha256 <base64 of 32 bytes>`.")
    return digest


def _non_negative(value: str, name: str) -> int:
    if not _DIGITS.fullmatch(value.strip()):
        raise BadRequest(f"{name} must be a non-negative whole number.")
    return int(value)
