"""Media in an S3-compatible object store (AWS S3, MinIO, SeaweedFS, R2 …) via aioboto3."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager, suppress
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

import aioboto3
from aiobotocore.config import AioConfig
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from dreamlust.media.storage.base import (
    BINARY,
    CHUNK_BYTES,
    ObjectNotFound,
    RangeNotSatisfiable,
    StorageError,
    StoredObject,
    check_range,
)
from dreamlust.media.storage.disposition import content_disposition
from dreamlust.media.storage.keys import MediaKey, check_prefix

if TYPE_CHECKING:
    from aiobotocore.response import StreamingBody
    from types_aiobotocore_s3 import S3Client

_MiB = 1024 * 1024
# Files from 8 MiB on go up in 8 MiB parts, four at a time (S3 allows 10,000 parts: 80 GB);
# at most eight parts are in memory.
_TRANSFER = TransferConfig(
    multipart_threshold=8 * _MiB,
    multipart_chunksize=8 * _MiB,
    max_concurrency=4,
    max_io_queue=4,
)
_DOWNLOAD_CHUNK_BYTES = _MiB
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
# The most keys one listing page, and one batch delete, may hold.
MAX_PAGE_SIZE = 1000


class S3Storage:
    """A key is an object key in one bucket.

    Without an access key the environment's credentials are used (variables, profile,
    instance role). With an endpoint URL (any store but AWS) requests address the bucket
    in the path. One client, with its connection pool, is opened on first use and closed
    by `aclose`.
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None,
        bucket: str,
        region: str,
        access_key: str | None,
        secret_key: str | None,
        presign_seconds: int,
        page_size: int = MAX_PAGE_SIZE,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be within 1-{MAX_PAGE_SIZE}")
        self.bucket = bucket
        self.presign_seconds = presign_seconds
        self.page_size = page_size
        self._endpoint_url = endpoint_url
        self._session = aioboto3.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
        )
        self._config = AioConfig(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=10,
            read_timeout=60,
        )
        self._client: S3Client | None = None
        self._opening = asyncio.Lock()
        self._resources = AsyncExitStack()

    async def save(self, key: MediaKey, source: Path, *, content_type: str = BINARY) -> None:
        client = await self._s3()
        with _storage_errors(key):
            await client.upload_file(
                str(source),
                self.bucket,
                key,
                ExtraArgs={"ContentType": content_type},
                Config=_TRANSFER,
            )
        await asyncio.to_thread(source.unlink)

    async def save_bytes(self, key: MediaKey, data: bytes, content_type: str) -> None:
        client = await self._s3()
        with _storage_errors(key):
            await client.put_object(
                Bucket=self.bucket, Key=key, Body=data, ContentType=content_type
            )

    async def fetch(self, key: MediaKey, destination: Path) -> None:
        client = await self._s3()
        with _storage_errors(key):
            descriptor, temporary = tempfile.mkstemp(
                dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
            )
        try:
            with os.fdopen(descriptor, "wb") as file, _storage_errors(key):
                response = await client.get_object(Bucket=self.bucket, Key=key)
                async for chunk in _chunks(response["Body"], _DOWNLOAD_CHUNK_BYTES):
                    await asyncio.to_thread(file.write, chunk)
            os.replace(temporary, destination)
        except BaseException:
            with suppress(FileNotFoundError):
                os.remove(temporary)
            raise

    async def stat(self, key: MediaKey) -> StoredObject | None:
        client = await self._s3()
        try:
            with _storage_errors(key):
                head = await client.head_object(Bucket=self.bucket, Key=key)
        except ObjectNotFound:
            return None
        return StoredObject(
            size=head["ContentLength"],
            etag=head["ETag"].strip('"'),
            modified=head["LastModified"].astimezone(UTC),
        )

    async def read(self, key: MediaKey, start: int, end: int) -> AsyncIterator[bytes]:
        check_range(start, end)
        client = await self._s3()
        with _storage_errors(key):
            response = await client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}"
            )
            async for chunk in _chunks(response["Body"], CHUNK_BYTES):
                yield chunk

    async def delete(self, key: MediaKey) -> None:
        client = await self._s3()
        with _storage_errors(key):
            await client.delete_object(Bucket=self.bucket, Key=key)

    async def delete_prefix(self, prefix: str) -> None:
        client = await self._s3()
        async for page in self._pages(check_prefix(prefix)):
            with _storage_errors(prefix):
                response = await client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in page], "Quiet": True},
                )
            if errors := response.get("Errors"):
                raise StorageError(f"could not delete {len(errors)} objects: {errors[0]}")

    async def keys(self, prefix: str) -> AsyncIterator[str]:
        async for page in self._pages(check_prefix(prefix)):
            for key in page:
                yield key

    async def presigned_url(
        self, key: MediaKey, *, content_type: str, filename: str, download: bool = False
    ) -> str | None:
        client = await self._s3()
        return await client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition(filename, download=download),
            },
            ExpiresIn=self.presign_seconds,
        )

    async def aclose(self) -> None:
        self._client = None
        await self._resources.aclose()

    async def _s3(self) -> S3Client:
        if self._client is not None:
            return self._client
        async with self._opening:
            if self._client is None:
                self._client = await self._resources.enter_async_context(
                    self._session.client("s3", endpoint_url=self._endpoint_url, config=self._config)
                )
            return self._client

    async def _pages(self, prefix: str) -> AsyncIterator[list[str]]:
        """The keys under `prefix`, a page of at most `page_size` at a time."""
        client = await self._s3()
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix, PaginationConfig={"PageSize": self.page_size}
        )
        with _storage_errors(prefix):
            async for page in pages:
                if keys := [item["Key"] for item in page.get("Contents", [])]:
                    yield keys


async def _chunks(body: StreamingBody, size: int) -> AsyncIterator[bytes]:
    """The body in chunks; its connection is released however the reading ends."""
    async with body:  # which yields aiohttp's response, not the body
        async for chunk in body.iter_chunks(size):
            yield chunk


@contextmanager
def _storage_errors(key: str) -> Iterator[None]:
    """The store's errors as this package's: a missing object, a range past the end, and
    everything else as `StorageError`."""
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        if code in _MISSING:
            raise ObjectNotFound(key) from exc
        if code == "InvalidRange":
            raise RangeNotSatisfiable(f"{key}: {error.get('Message', code)}") from exc
        raise StorageError(f"{key}: {exc}") from exc
    except (BotoCoreError, OSError) as exc:
        raise StorageError(f"{key}: {exc}") from exc
