"""The storage the settings choose."""

from __future__ import annotations

from dreamlust.config import Settings
from dreamlust.media.storage.base import Storage
from dreamlust.media.storage.local import LocalStorage


def create_storage(settings: Settings) -> Storage:
    if settings.media_backend == "local":
        return LocalStorage(settings.media_dir)
    # Imported here so that processes on the local backend never load aioboto3.
    from dreamlust.media.storage.s3 import S3Storage

    secret = settings.s3_secret_access_key
    return S3Storage(
        endpoint_url=settings.s3_endpoint_url,
        bucket=settings.s3_bucket,
        region=settings.s3_region,
        access_key=settings.s3_access_key_id,
        secret_key=secret.get_secret_value() if secret is not None else None,
        presign_seconds=settings.s3_presign_seconds,
    )
