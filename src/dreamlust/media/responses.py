"""HTTP answers that carry a stored file: bytes with ranges and validators, or a redirect
to a presigned URL of the store.

On a store that presigns (S3), a GET is redirected and the store answers ranges and
validators itself; the application never relays the bytes. HEAD is answered here from
the object's metadata (a presigned URL is signed for GET alone), and so are HLS
playlists, which are tiny and reached on every refresh of a live player.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from email.utils import format_datetime

from fastapi import Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from dreamlust.errors import DreamlustError, NotFound
from dreamlust.media.ranges import ByteRange, RangeNotSatisfiable, parse_range
from dreamlust.media.serving import ServedFile
from dreamlust.media.storage import Storage, StoredObject, content_disposition

# A redirect carries a short-lived signature: no cache may keep it.
_REDIRECT_CACHING = "private, no-store"


class RangeNotSatisfiableError(DreamlustError):
    status, slug = 416, "range-not-satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__(
            f"The requested range lies beyond the end of the file ({size} bytes).",
            headers={"Content-Range": f"bytes */{size}"},
        )


async def file_response(request: Request, storage: Storage, served: ServedFile) -> Response:
    if request.method == "GET" and not served.is_playlist:
        url = await storage.presigned_url(
            served.key, content_type=served.content_type, filename=served.filename
        )
        if url is not None:
            return RedirectResponse(
                url,
                status_code=307,
                headers={"Cache-Control": _REDIRECT_CACHING, "X-Content-Type-Options": "nosniff"},
            )
    stored = await storage.stat(served.key)
    if stored is None:
        raise NotFound("No such media.")
    return _bytes_response(request, storage, served, stored)


def _bytes_response(
    request: Request, storage: Storage, served: ServedFile, stored: StoredObject
) -> Response:
    etag = f'"{stored.etag}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": format_datetime(stored.modified, usegmt=True),
        "Cache-Control": served.caching.value,
        "X-Content-Type-Options": "nosniff",
    }
    if _none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = content_disposition(served.filename)
    ranges = _wanted_ranges(request, etag, stored.size)
    head = request.method == "HEAD"
    if ranges is None:
        body = None if head or stored.size == 0 else storage.read(served.key, 0, stored.size - 1)
        return _response(200, body, stored.size, served.content_type, headers)
    if len(ranges) == 1:
        [part] = ranges
        headers["Content-Range"] = part.content_range(stored.size)
        body = None if head else storage.read(served.key, part.start, part.end)
        return _response(206, body, part.length, served.content_type, headers)
    boundary = secrets.token_hex(16)
    framing = _framing(ranges, boundary, served.content_type, stored.size)
    length = sum(len(piece) for piece in framing) + sum(part.length for part in ranges)
    body = None if head else _multipart(storage, served, ranges, framing)
    content_type = f"multipart/byteranges; boundary={boundary}"
    return _response(206, body, length, content_type, headers)


def _wanted_ranges(request: Request, etag: str, size: int) -> list[ByteRange] | None:
    if_range = request.headers.get("if-range")
    # Only a strong ETag that is still current lets the ranges through; a date or a
    # stale tag means the client's copy is not this file: it gets all of it.
    if if_range is not None and if_range.strip() != etag:
        return None
    try:
        return parse_range(request.headers.get("range"), size)
    except RangeNotSatisfiable:
        raise RangeNotSatisfiableError(size) from None


def _none_match(header: str | None, etag: str) -> bool:
    """If-None-Match with the weak comparison RFC 9110 asks for."""
    if header is None:
        return False
    tags = [tag.strip() for tag in header.split(",")]
    return "*" in tags or etag in (tag.removeprefix("W/") for tag in tags)


def _framing(ranges: list[ByteRange], boundary: str, content_type: str, size: int) -> list[bytes]:
    """The text before each part and after the last: one more piece than there are parts."""
    pieces = [
        (
            ("\r\n" if index else "")
            + f"--{boundary}\r\nContent-Type: {content_type}\r\n"
            + f"Content-Range: {part.content_range(size)}\r\n\r\n"
        ).encode("ascii")
        for index, part in enumerate(ranges)
    ]
    pieces.append(f"\r\n--{boundary}--\r\n".encode("ascii"))
    return pieces


async def _multipart(
    storage: Storage, served: ServedFile, ranges: list[ByteRange], framing: list[bytes]
) -> AsyncIterator[bytes]:
    for part, preamble in zip(ranges, framing, strict=False):
        yield preamble
        async for chunk in storage.read(served.key, part.start, part.end):
            yield chunk
    yield framing[-1]


def _response(
    status: int,
    body: AsyncIterator[bytes] | None,
    length: int,
    content_type: str,
    headers: dict[str, str],
) -> Response:
    headers = {**headers, "Content-Length": str(length), "Content-Type": content_type}
    if body is None:
        return Response(status_code=status, headers=headers)
    return StreamingResponse(body, status_code=status, headers=headers)
