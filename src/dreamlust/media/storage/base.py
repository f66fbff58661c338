"""What every storage backend does, and the errors it raises."""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from dreamlust.media.storage.keys import MediaKey

BINARY = "application/octet-stream"
# How much of a file one chunk of `read` holds.
CHUNK_BYTES = 256 * 1024
# What a write fails with when its disk has no room left: the disk is full, or a quota
# is reached.
NO_ROOM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class StorageError(Exception):
    """The backend failed: a disk, network or permission problem, not the caller's."""


class StorageFull(StorageError):
    """The backend has no room left for the file."""


class ObjectNotFound(StorageError):
    """No object under the key."""


class RangeNotSatisfiable(StorageError):
    """The range starts at or beyond the end of the object."""


@dataclass(frozen=True, slots=True)
class StoredObject:
    size: int
    # Opaque and unquoted; it changes whenever the content does.
    etag: str
    modified: datetime


class Storage(Protocol):
    """Where media files live. Keys come from `keys`; prefixes pass `check_prefix`.

    `read` and `keys` are async generators: their errors surface on the first iteration.
    """

    async def save(self, key: MediaKey, source: Path, *, content_type: str = BINARY) -> None:
        """Moves the complete file at `source` into the store: afterwards it is gone from
        `source` (on failure it stays), and readers see the previous object or the whole
        new one."""

    async def save_bytes(self, key: MediaKey, data: bytes, content_type: str) -> None: ...

    async def fetch(self, key: MediaKey, destination: Path) -> None:
        """Copies the object to the local file `destination`, which appears complete or not
        at all. Raises `ObjectNotFound`."""

    async def stat(self, key: MediaKey) -> StoredObject | None: ...

    def read(self, key: MediaKey, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes `start` to `end` inclusive, as in an HTTP range, in chunks; a range past the
        end stops at the end. Raises `ObjectNotFound` or `RangeNotSatisfiable`."""
        ...

    async def delete(self, key: MediaKey) -> None:
        """Removes the object; a missing one is fine."""

    async def delete_prefix(self, prefix: str) -> None:
        """Removes every object whose key starts with `prefix`."""

    def keys(self, prefix: str) -> AsyncIterator[str]:
        """Every key starting with `prefix`, in ascending order: what is in the store, which
        may include keys this application would not make."""
        ...

    async def presigned_url(
        self, key: MediaKey, *, content_type: str, filename: str, download: bool = False
    ) -> str | None:
        """A short-lived URL from which a client fetches the object directly, with these
        response headers, or None when the application must serve the bytes itself."""

    async def aclose(self) -> None: ...


def check_range(start: int, end: int) -> None:
    if start < 0 or end < start:
        raise ValueError(f"not a byte range: {start}-{end}")
