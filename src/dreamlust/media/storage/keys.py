"""Storage keys, made by the application alone.

A key is `originals/<asset uuid>` or `derived/<asset uuid>/<name>`, where the name comes
from a short allow-list of patterns. Nothing a user sends ends up in a key, and the
grammar admits no `..`, no leading `/`, no backslash, no NUL and nothing outside
`[A-Za-z0-9._/-]`, so a key is a safe relative path on any backend.
"""

from __future__ import annotations

import re
from typing import Self
from uuid import UUID

ORIGINALS = "originals/"
DERIVED = "derived/"

_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# Every file the workers derive from an original; add a pattern here for a new kind.
_DERIVED_NAMES = (
    r"poster\.(?:jpg|webp)",
    r"thumb-[1-9][0-9]{1,3}\.(?:jpg|webp)",
    r"hls/master\.m3u8",
    r"hls/[1-9][0-9]{2,3}p/(?:index\.m3u8|init\.mp4|segment-[0-9]{5}\.(?:ts|m4s))",
)
_DERIVED_NAME = re.compile("|".join(_DERIVED_NAMES))
_KEY = re.compile(rf"{ORIGINALS}{_UUID}|{DERIVED}{_UUID}/(?:{_DERIVED_NAME.pattern})")
_SAFE_CHARACTERS = re.compile(r"[A-Za-z0-9._/-]*")


class InvalidMediaKey(ValueError):
    """A key or prefix that the application would never make."""


class MediaKey(str):
    """A key that matches the grammar; constructing one from any other text fails."""

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        check_prefix(value)
        if _KEY.fullmatch(value) is None:
            raise InvalidMediaKey(f"not a media key: {value!r}")
        return super().__new__(cls, value)

    @property
    def asset_id(self) -> UUID:
        return UUID(self.split("/")[1])


def original_key(asset_id: UUID) -> MediaKey:
    return MediaKey(f"{ORIGINALS}{asset_id}")


def derived_key(asset_id: UUID, name: str) -> MediaKey:
    """The key of a file derived from an asset, e.g. `poster.jpg` or
    `hls/720p/segment-00001.ts`; a name outside the allow-list is refused."""
    if _DERIVED_NAME.fullmatch(name) is None:
        raise InvalidMediaKey(f"not a derived file name: {name!r}")
    return MediaKey(f"{derived_prefix(asset_id)}{name}")


def derived_prefix(asset_id: UUID) -> str:
    """The prefix of every file derived from an asset."""
    return f"{DERIVED}{asset_id}/"


def check_prefix(prefix: str) -> str:
    """`prefix` if it is a safe relative path (or the start of one): the empty prefix
    means everything."""
    if _SAFE_CHARACTERS.fullmatch(prefix) is None:
        raise InvalidMediaKey(f"unsafe characters in {prefix!r}")
    if prefix.startswith("/"):
        raise InvalidMediaKey(f"absolute path {prefix!r}")
    segments = prefix.split("/")
    # The last segment may be cut short ("derived/" or "originals/01"), the others not.
    if any(segment in {"", ".", ".."} for segment in segments[:-1]) or segments[-1] in {
        ".",
        "..",
    }:
        raise InvalidMediaKey(f"empty, `.` or `..` segment in {prefix!r}")
    return prefix
