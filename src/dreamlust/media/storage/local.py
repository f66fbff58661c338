"""Media in a local folder: the default, and what `make run` uses."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import BinaryIO, ParamSpec, TypeVar

from dreamlust.media.storage.base import (
    BINARY,
    CHUNK_BYTES,
    NO_ROOM_ERRNOS,
    ObjectNotFound,
    RangeNotSatisfiable,
    StorageError,
    StorageFull,
    StoredObject,
    check_range,
)
from dreamlust.media.storage.keys import InvalidMediaKey, MediaKey, check_prefix

_P = ParamSpec("_P")
_T = TypeVar("_T")

_FILE_MODE = 0o640
_COPY_BUFFER_BYTES = 1024 * 1024
_LISTING_BATCH = 1000
# Placing a file is tried again when a concurrent delete removed its emptied folder.
_PLACING_ATTEMPTS = 3


class LocalStorage:
    """A key is a relative path under `root`.

    A file is written to a hidden temporary file beside its place and renamed into it, so
    a reader sees the old file or the whole new one. Every path is resolved and must stay
    inside the root, whatever the key or a symlink in the tree says. Hidden files (the
    temporary ones) and symlinks are never listed.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    async def save(self, key: MediaKey, source: Path, *, content_type: str = BINARY) -> None:
        await _in_thread(self._move_in, key, source)

    async def save_bytes(self, key: MediaKey, data: bytes, content_type: str) -> None:
        await _in_thread(self._write, key, data)

    async def fetch(self, key: MediaKey, destination: Path) -> None:
        await _in_thread(self._copy_out, key, destination)

    async def stat(self, key: MediaKey) -> StoredObject | None:
        return await _in_thread(self._stat, key)

    async def read(self, key: MediaKey, start: int, end: int) -> AsyncIterator[bytes]:
        check_range(start, end)
        descriptor = await _in_thread(self._open, key)
        try:
            size = os.fstat(descriptor).st_size
            if start >= size:
                raise RangeNotSatisfiable(f"{key} has {size} bytes; the range starts at {start}")
            position, last = start, min(end, size - 1)
            while position <= last:
                length = min(CHUNK_BYTES, last - position + 1)
                chunk = await _in_thread(os.pread, descriptor, length, position)
                if not chunk:
                    return
                position += len(chunk)
                yield chunk
        finally:
            os.close(descriptor)

    async def delete(self, key: MediaKey) -> None:
        await _in_thread(self._delete, key)

    async def delete_prefix(self, prefix: str) -> None:
        await _in_thread(self._delete_prefix, check_prefix(prefix))

    async def keys(self, prefix: str) -> AsyncIterator[str]:
        walk = self._walk(check_prefix(prefix))
        while batch := await _in_thread(_take, walk, _LISTING_BATCH):
            for key in batch:
                yield key

    async def presigned_url(
        self, key: MediaKey, *, content_type: str, filename: str, download: bool = False
    ) -> str | None:
        return None

    async def aclose(self) -> None:
        return None

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if path == self.root or not path.is_relative_to(self.root):
            raise InvalidMediaKey(f"{key!r} leads outside {self.root}")
        return path

    def _move_in(self, key: MediaKey, source: Path) -> None:
        target = self._path(key)

        def rename() -> None:
            os.chmod(source, _FILE_MODE)
            os.replace(source, target)

        try:
            self._place(target, rename)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            with source.open("rb") as file:
                self._write_file(
                    target, lambda out: shutil.copyfileobj(file, out, _COPY_BUFFER_BYTES)
                )
            source.unlink()

    def _write(self, key: MediaKey, data: bytes) -> None:
        self._write_file(self._path(key), lambda out: out.write(data))

    def _write_file(self, target: Path, fill: Callable[[BinaryIO], object]) -> None:
        temporary: list[str] = []

        def write_and_rename() -> None:
            descriptor, path = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".part")
            temporary.append(path)
            with os.fdopen(descriptor, "wb") as file:
                fill(file)
                file.flush()
                os.fsync(file.fileno())
                os.fchmod(file.fileno(), _FILE_MODE)
            os.replace(path, target)

        try:
            self._place(target, write_and_rename)
        except BaseException:
            for path in temporary:
                Path(path).unlink(missing_ok=True)
            raise

    def _place(self, target: Path, place: Callable[[], None]) -> None:
        for attempt in range(1, _PLACING_ATTEMPTS + 1):
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                place()
            except FileNotFoundError:
                if target.parent.is_dir() or attempt == _PLACING_ATTEMPTS:
                    raise
            else:
                return

    def _copy_out(self, key: MediaKey, destination: Path) -> None:
        source = self._path(key)
        descriptor, temporary = tempfile.mkstemp(
            dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
        )
        try:
            with os.fdopen(descriptor, "wb") as out, open(_open_regular(source, key), "rb") as file:
                shutil.copyfileobj(file, out, _COPY_BUFFER_BYTES)
            os.replace(temporary, destination)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _stat(self, key: MediaKey) -> StoredObject | None:
        try:
            status = self._path(key).stat()
        except FileNotFoundError:
            return None
        if not stat.S_ISREG(status.st_mode):
            return None
        return StoredObject(
            size=status.st_size,
            etag=f"{status.st_mtime_ns:x}-{status.st_size:x}",
            modified=datetime.fromtimestamp(status.st_mtime, UTC),
        )

    def _open(self, key: MediaKey) -> int:
        return _open_regular(self._path(key), key)

    def _delete(self, key: MediaKey) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        self._prune(path.parent)

    def _delete_prefix(self, prefix: str) -> None:
        folders: set[Path] = set()
        for key in self._walk(prefix):
            path = self._path(key)
            path.unlink(missing_ok=True)
            folders.add(path.parent)
        for folder in sorted(folders, key=lambda folder: len(folder.parts), reverse=True):
            self._prune(folder)

    def _prune(self, folder: Path) -> None:
        """Removes `folder` and its parents up to the root while they are empty."""
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _walk(self, prefix: str) -> Iterator[str]:
        folder, _, start = prefix.rpartition("/")
        if not folder:
            return _walk_folder(self.root, "", start)
        return _walk_folder(self._path(folder), f"{folder}/", start)


def _walk_folder(folder: Path, key_prefix: str, start: str = "") -> Iterator[str]:
    """The keys under `folder` whose names begin with `start`, in the order S3 lists them:
    a folder sorts as its keys do, by its name followed by `/`."""
    try:
        with os.scandir(folder) as scan:
            entries = [
                (entry.name + "/" if entry.is_dir(follow_symlinks=False) else entry.name, entry)
                for entry in scan
                if entry.name.startswith(start) and not entry.name.startswith(".")
            ]
    except (FileNotFoundError, NotADirectoryError):
        return
    for name, entry in sorted(entries, key=lambda pair: pair[0]):
        if name.endswith("/"):
            yield from _walk_folder(Path(entry.path), key_prefix + name)
        elif entry.is_file(follow_symlinks=False):
            yield key_prefix + name


def _open_regular(path: Path, key: str) -> int:
    """A descriptor of the regular file at `path`; anything else is `ObjectNotFound`."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise ObjectNotFound(key) from exc
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise ObjectNotFound(key)
    return descriptor


def _take(iterator: Iterator[str], count: int) -> list[str]:
    return list(islice(iterator, count))


async def _in_thread(function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Runs blocking file work off the event loop; a failing disk is a `StorageError`
    (`StorageFull` when it has no room left)."""
    try:
        return await asyncio.to_thread(function, *args, **kwargs)
    except OSError as exc:
        if exc.errno in NO_ROOM_ERRNOS:
            raise StorageFull(str(exc)) from exc
        raise StorageError(str(exc)) from exc
