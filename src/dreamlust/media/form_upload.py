"""A file sent as the `file` field of a `multipart/form-data` body, streamed to disk.

The body is parsed as it arrives and the file's bytes go straight to the staging file:
neither the body nor the file is ever held whole in memory or spooled elsewhere. Other
fields are read past and ignored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from dreamlust.errors import BadRequest, InvalidInput
from dreamlust.media.staging import Received, StagedFile

FIELD = "file"
# Room for the boundaries and part headers around the file in a body.
FRAMING_BYTES = 64 * 1024
_MAX_PARTS = 16


@dataclass
class FormFile:
    filename: str | None
    received: Received


class _FilePart:
    """The parser's callbacks: they keep the file part's bytes until they are written."""

    def __init__(self) -> None:
        self.pending: list[bytes] = []
        self.filename: str | None = None
        self.found = False
        self.parts = 0
        self._in_file = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""

    def on_part_begin(self) -> None:
        self.parts += 1
        if self.parts > _MAX_PARTS:
            raise BadRequest(f"At most {_MAX_PARTS} form fields are accepted.")
        self._in_file = False
        self._disposition = b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        if options.get(b"name") != FIELD.encode():
            return
        if self.found:
            raise InvalidInput("Send one file only.", loc=["body", FIELD])
        self.found = self._in_file = True
        filename = options.get(b"filename")
        self.filename = filename.decode("utf-8", "replace") if filename is not None else None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.pending.append(data[start:end])

    def on_part_end(self) -> None:
        self._in_file = False


def boundary_of(content_type: str) -> bytes:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise BadRequest("Expected a multipart/form-data body with a boundary.")
    return options[b"boundary"]


async def receive(
    body: AsyncIterator[bytes], content_type: str, target: StagedFile, *, limit: int
) -> FormFile:
    """Append the `file` field of the body to `target`: at most `limit` bytes (or
    `BodyTooLarge`)."""
    part = _FilePart()
    parser = MultipartParser(
        boundary_of(content_type),
        {
            "on_part_begin": part.on_part_begin,
            "on_header_field": part.on_header_field,
            "on_header_value": part.on_header_value,
            "on_header_end": part.on_header_end,
            "on_headers_finished": part.on_headers_finished,
            "on_part_data": part.on_part_data,
            "on_part_end": part.on_part_end,
        },
    )

    async def file_bytes() -> AsyncIterator[bytes]:
        try:
            async for chunk in body:
                parser.write(chunk)
                for piece in part.pending:
                    yield piece
                part.pending.clear()
            parser.finalize()
        except MultipartParseError as exc:
            raise BadRequest("The multipart body is malformed.") from exc
        for piece in part.pending:
            yield piece

    received = await target.append(file_bytes(), limit=limit)
    if received.interrupted:
        raise BadRequest("The request body ended before its end.")
    if not part.found:
        raise InvalidInput(f"Send the file in a form field named {FIELD!r}.", loc=["body", FIELD])
    if received.length == 0:
        raise InvalidInput("The file is empty.", loc=["body", FIELD])
    return FormFile(part.filename, received)
