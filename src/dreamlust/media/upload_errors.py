"""The errors of taking uploads, as clients see them."""

from __future__ import annotations

from dreamlust.errors import Conflict, DreamlustError


class ContentTooLarge(DreamlustError):
    status, slug = 413, "content-too-large"


class NoRoomForUpload(ContentTooLarge):
    """The disk that takes uploads, or keeps media, is full: the file is larger than the
    server is able to take right now."""

    slug = "no-room-for-upload"


class UnsupportedMediaType(DreamlustError):
    status, slug = 415, "unsupported-media-type"


class OffsetMismatch(Conflict):
    slug = "upload-offset-mismatch"


class UploadInUse(Conflict):
    slug = "upload-in-use"
