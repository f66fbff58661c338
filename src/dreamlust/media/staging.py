"""The staging folder: uploads in progress, one file per asset, named by its id alone.

A file is written by one request at a time: a request holds an exclusive `flock` on it
while it appends, so a second request for the same upload is refused at once (and a
request that dies, with its process or not, releases the lock). The folder must be on
a file system whose locks every API process taking uploads shares: a local disk with
uploads routed to one machine, or a shared volume with working locks (NFSv4, CephFS).

The blocking calls run in worker threads; a file's bytes are never held in memory
beyond one buffer.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dreamlust.media.storage.base import NO_ROOM_ERRNOS

_FILE_MODE = 0o600
# Bytes gathered from the network before one write to the file.
WRITE_BUFFER_BYTES = 1024 * 1024
_READ_BYTES = 1024 * 1024


class UploadBusy(Exception):
    """Another request is writing this upload right now."""


class BodyTooLarge(Exception):
    """The request body holds more bytes than the upload may still take."""


class StagingFull(Exception):
    """The disk of the staging folder has no room left for the bytes (what was written
    before stays: the caller decides)."""


@dataclass
class Received:
    """What one request body brought: how many bytes, their SHA-256, and whether the
    client went away before the end."""

    length: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)
    interrupted: bool = False


class Staging:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, asset_id: uuid.UUID) -> Path:
        return self.root / str(asset_id)

    async def create(self, asset_id: uuid.UUID) -> None:
        """An empty file for a new upload."""
        await asyncio.to_thread(self._create, asset_id)

    async def open(self, asset_id: uuid.UUID) -> StagedFile:
        """The upload's file, locked for this request. Raises `UploadBusy` when another
        request holds it and `FileNotFoundError` when there is none."""
        return StagedFile(self.path(asset_id), await asyncio.to_thread(self._open, asset_id))

    async def delete(self, asset_id: uuid.UUID) -> None:
        await asyncio.to_thread(self.path(asset_id).unlink, missing_ok=True)

    async def stray_files(self, known: set[uuid.UUID], older_than_seconds: float) -> list[Path]:
        """Files of no upload in `known`, untouched for `older_than_seconds` (a newer one
        may belong to an upload whose row is being committed)."""
        return await asyncio.to_thread(self._stray_files, known, older_than_seconds)

    async def upload_ids(self) -> set[uuid.UUID]:
        return await asyncio.to_thread(self._upload_ids)

    def _create(self, asset_id: uuid.UUID) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(
            self.path(asset_id), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, _FILE_MODE
        )
        os.close(descriptor)

    def _open(self, asset_id: uuid.UUID) -> int:
        descriptor = os.open(self.path(asset_id), os.O_RDWR | os.O_CLOEXEC)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(descriptor)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise UploadBusy(str(asset_id)) from exc
            raise
        return descriptor

    def _upload_ids(self) -> set[uuid.UUID]:
        if not self.root.is_dir():
            return set()
        found = set()
        for entry in os.scandir(self.root):
            try:
                found.add(uuid.UUID(entry.name))
            except ValueError:
                continue
        return found

    def _stray_files(self, known: set[uuid.UUID], older_than_seconds: float) -> list[Path]:
        if not self.root.is_dir():
            return []
        cutoff = time.time() - older_than_seconds
        stray = []
        for entry in os.scandir(self.root):
            if not entry.is_file(follow_symlinks=False):
                continue
            try:
                asset_id = uuid.UUID(entry.name)
            except ValueError:
                asset_id = None
            unknown = asset_id is None or asset_id not in known
            if unknown and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                stray.append(Path(entry.path))
        return stray


class StagedFile:
    """An upload's file, locked by this request until `close`."""

    def __init__(self, path: Path, descriptor: int) -> None:
        self.path = path
        self._descriptor = descriptor

    async def __aenter__(self) -> StagedFile:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._descriptor >= 0:
            descriptor, self._descriptor = self._descriptor, -1
            await asyncio.to_thread(os.close, descriptor)

    async def size(self) -> int:
        return (await asyncio.to_thread(os.fstat, self._descriptor)).st_size

    async def truncate(self, length: int) -> None:
        """Cut the file back to `length` bytes, durably."""
        await asyncio.to_thread(self._truncate, length)

    async def append(self, body: AsyncIterator[bytes], *, limit: int) -> Received:
        """Append the body at the end of the file, at most `limit` bytes, and make what was
        written durable; `BodyTooLarge` when the body goes past `limit` (what it wrote
        stays: the caller decides). A client that goes away ends the body early: the
        bytes that came stay, with `interrupted` set."""
        received = Received()
        buffer = bytearray()
        try:
            async for chunk in body:
                if received.length + len(chunk) > limit:
                    raise BodyTooLarge(f"more than {limit} bytes")
                received.length += len(chunk)
                received.digest.update(chunk)
                buffer += chunk
                if len(buffer) >= WRITE_BUFFER_BYTES:
                    await asyncio.to_thread(self._write, bytes(buffer))
                    buffer.clear()
        except ClientGone:
            received.interrupted = True
        finally:
            if buffer:
                await asyncio.to_thread(self._write, bytes(buffer))
            await asyncio.to_thread(self._sync)
        return received

    async def head(self, length: int) -> bytes:
        return await asyncio.to_thread(os.pread, self._descriptor, length, 0)

    async def sha256(self) -> str:
        """The hex SHA-256 of the whole file."""
        return await asyncio.to_thread(self._sha256)

    def _truncate(self, length: int) -> None:
        os.ftruncate(self._descriptor, length)
        os.fsync(self._descriptor)

    def _write(self, data: bytes) -> None:
        os.lseek(self._descriptor, 0, os.SEEK_END)
        view = memoryview(data)
        with _full_when_no_room():
            while view:
                written = os.write(self._descriptor, view)
                view = view[written:]

    def _sync(self) -> None:
        with _full_when_no_room():
            os.fsync(self._descriptor)

    def _sha256(self) -> str:
        digest = hashlib.sha256()
        position = 0
        while chunk := os.pread(self._descriptor, _READ_BYTES, position):
            digest.update(chunk)
            position += len(chunk)
        return digest.hexdigest()


class ClientGone(Exception):
    """The client closed the connection before the end of its request body."""


@contextmanager
def _full_when_no_room() -> Iterator[None]:
    """A write or sync that fails for want of room raises `StagingFull`."""
    try:
        yield
    except OSError as exc:
        if exc.errno in NO_ROOM_ERRNOS:
            raise StagingFull(str(exc)) from exc
        raise
