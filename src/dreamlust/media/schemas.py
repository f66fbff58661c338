"""What clients read of media assets."""

from __future__ import annotations

import uuid
from datetime import datetime

from dreamlust.kit.schemas import Schema
from dreamlust.models.enums import MediaAssetKind, MediaAssetStatus


class AssetRead(Schema):
    """An uploaded or derived file and where it stands: UPLOADING (`upload_offset` of
    `file_size` bytes received), PROCESSING, READY, or FAILED with the reason in
    `failure`."""

    id: uuid.UUID
    content_id: uuid.UUID | None
    kind: MediaAssetKind
    status: MediaAssetStatus
    failure: str | None
    original_filename: str | None
    mime_type: str | None
    file_size: int
    upload_offset: int
    width: int | None
    height: int | None
    duration: int | None
    created_at: datetime
