"""Where media files live: a local folder or an S3-compatible store, behind one protocol.

`S3Storage` lives in `dreamlust.media.storage.s3`, imported only where it is used.
"""

from dreamlust.media.storage.base import (
    ObjectNotFound,
    RangeNotSatisfiable,
    Storage,
    StorageError,
    StorageFull,
    StoredObject,
)
from dreamlust.media.storage.disposition import content_disposition
from dreamlust.media.storage.factory import create_storage
from dreamlust.media.storage.keys import (
    InvalidMediaKey,
    MediaKey,
    check_prefix,
    derived_key,
    derived_prefix,
    original_key,
)
from dreamlust.media.storage.local import LocalStorage

__all__ = [
    "InvalidMediaKey",
    "LocalStorage",
    "MediaKey",
    "ObjectNotFound",
    "RangeNotSatisfiable",
    "Storage",
    "StorageError",
    "StorageFull",
    "StoredObject",
    "check_prefix",
    "content_disposition",
    "create_storage",
    "derived_key",
    "derived_prefix",
    "original_key",
]
