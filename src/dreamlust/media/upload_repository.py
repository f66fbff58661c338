"""The queries of taking uploads: an uploader's upload, its progress, the abandoned ones."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, delete, select, update

from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.repository import Repository
from dreamlust.models import Content, MediaAsset
from dreamlust.models.enums import ContentType, MediaAssetStatus

NEWEST_ASSETS = Ordering(
    "content-media-assets", (SortKey(MediaAsset.created_at), SortKey(MediaAsset.id))
)
_UPLOADING = MediaAssetStatus.UPLOADING


class UploadRepository(Repository[MediaAsset]):
    model = MediaAsset

    async def of_owner(
        self, asset_id: uuid.UUID, owner_id: uuid.UUID
    ) -> tuple[MediaAsset, ContentType] | None:
        """The owner's upload and the type of the content item it is for."""
        row = (
            await self.session.execute(
                select(MediaAsset, Content.type)
                .join(Content, Content.id == MediaAsset.content_id)
                .where(MediaAsset.id == asset_id, MediaAsset.owner_id == owner_id)
            )
        ).one_or_none()
        return (row[0], row[1]) if row is not None else None

    async def advance(
        self,
        asset_id: uuid.UUID,
        *,
        offset: int,
        to: int,
        mime_type: str | None,
        checksum: str | None,
    ) -> bool:
        """Move an upload's offset from `offset` to `to`; False when it is no longer at
        `offset` (or no longer uploading)."""
        values: dict[str, object] = {"upload_offset": to}
        if mime_type is not None:
            values["mime_type"] = mime_type
        if checksum is not None:
            values["checksum_sha256"] = checksum
        result = await self.session.execute(
            update(MediaAsset)
            .where(
                MediaAsset.id == asset_id,
                MediaAsset.status == _UPLOADING,
                MediaAsset.upload_offset == offset,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def hand_to_processing(self, asset_id: uuid.UUID) -> bool:
        """UPLOADING → PROCESSING, for the worker to take; False when it was not uploading."""
        result = await self.session.execute(
            update(MediaAsset)
            .where(MediaAsset.id == asset_id, MediaAsset.status == _UPLOADING)
            .values(status=MediaAssetStatus.PROCESSING, upload_expires_at=None)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def forget_upload(self, asset_id: uuid.UUID) -> bool:
        """Delete an upload still in progress; False when there is none."""
        result = await self.session.execute(
            delete(MediaAsset)
            .where(MediaAsset.id == asset_id, MediaAsset.status == _UPLOADING)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def expired_uploads(self, now: datetime, limit: int) -> Sequence[uuid.UUID]:
        found = await self.session.scalars(
            select(MediaAsset.id)
            .where(MediaAsset.status == _UPLOADING, MediaAsset.upload_expires_at < now)
            .order_by(MediaAsset.upload_expires_at)
            .limit(limit)
        )
        return list(found)

    async def forget_expired(
        self, asset_ids: Sequence[uuid.UUID], now: datetime
    ) -> list[uuid.UUID]:
        """Delete those of `asset_ids` that are still expired uploads; the ids deleted."""
        if not asset_ids:
            return []
        found = await self.session.scalars(
            delete(MediaAsset)
            .where(
                MediaAsset.id.in_(list(asset_ids)),
                MediaAsset.status == _UPLOADING,
                MediaAsset.upload_expires_at < now,
            )
            .returning(MediaAsset.id)
            .execution_options(synchronize_session=False)
        )
        return list(found)

    async def uploading_ids(self, asset_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `asset_ids` that are uploads in progress."""
        if not asset_ids:
            return set()
        found = await self.session.scalars(
            select(MediaAsset.id).where(
                MediaAsset.id.in_(list(asset_ids)), MediaAsset.status == _UPLOADING
            )
        )
        return set(found)

    def of_content(self, content_id: uuid.UUID) -> Select[MediaAsset]:
        return self.select().where(MediaAsset.content_id == content_id)
