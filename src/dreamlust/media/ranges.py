"""Byte ranges of a `Range` request header (RFC 9110 §14), resolved against a file size.

A header that does not parse is ignored, as the RFC asks: the whole file is served.
Ranges that overlap or touch are merged, and a request for more than `MAX_RANGES`
ranges is served whole rather than answered piece by piece.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_RANGES = 16
_MAX_HEADER_LENGTH = 1024
_UNIT = re.compile(r"\s*bytes\s*=\s*(.*)", re.IGNORECASE | re.DOTALL)
_SPEC = re.compile(r"(?:([0-9]{1,18})-([0-9]{0,18})|-([0-9]{1,18}))")


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class RangeNotSatisfiable(Exception):
    """No range of the header overlaps the file: a 416."""


def parse_range(header: str | None, size: int) -> list[ByteRange] | None:
    """The ranges to serve in ascending order, or None to serve the whole file (no header,
    a malformed one, or too many ranges). Raises `RangeNotSatisfiable`."""
    if header is None or len(header) > _MAX_HEADER_LENGTH:
        return None
    unit = _UNIT.fullmatch(header)
    if unit is None:
        return None
    specs = [spec.strip() for spec in unit.group(1).split(",")]
    if len(specs) > MAX_RANGES:
        return None
    ranges: list[ByteRange] = []
    for spec in specs:
        if not spec:  # RFC 9110 allows empty list elements: "bytes=0-1, ,5-6"
            continue
        match = _SPEC.fullmatch(spec)
        if match is None:
            return None
        first, last, suffix = match.groups()
        if suffix is not None:
            wanted = int(suffix)
            if wanted > 0 and size > 0:
                ranges.append(ByteRange(max(size - wanted, 0), size - 1))
            continue
        start = int(first)
        if last and int(last) < start:
            return None  # an invalid range makes the whole header invalid
        if start < size:
            ranges.append(ByteRange(start, min(int(last), size - 1) if last else size - 1))
    if not ranges:
        if not any(specs):
            return None
        raise RangeNotSatisfiable
    return _coalesced(ranges)


def _coalesced(ranges: list[ByteRange]) -> list[ByteRange]:
    merged: list[ByteRange] = []
    for current in sorted(ranges, key=lambda byte_range: byte_range.start):
        if merged and current.start <= merged[-1].end + 1:
            previous = merged.pop()
            current = ByteRange(previous.start, max(previous.end, current.end))
        merged.append(current)
    return merged
