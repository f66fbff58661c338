"""The queries of serving media assets and of keeping their files and rows in step."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased

from dreamlust.kit.repository import Repository
from dreamlust.models import MediaAsset
from dreamlust.models.enums import MediaAssetKind, MediaAssetStatus

# The assets that claim to have a file in the store.
STORED = (MediaAssetStatus.READY, MediaAssetStatus.PROCESSING)


class ServedAsset(NamedTuple):
    asset: MediaAsset
    # The content it belongs to: its own, or that of the asset it was derived from.
    content_id: uuid.UUID | None


class StoredAsset(NamedTuple):
    id: uuid.UUID
    storage_key: str


class MediaAssetRepository(Repository[MediaAsset]):
    model = MediaAsset

    async def ready(self, asset_id: uuid.UUID) -> ServedAsset | None:
        source = aliased(MediaAsset)
        row = (
            await self.session.execute(
                select(MediaAsset, func.coalesce(MediaAsset.content_id, source.content_id))
                .outerjoin(source, source.id == MediaAsset.source_id)
                .where(MediaAsset.id == asset_id, MediaAsset.status == MediaAssetStatus.READY)
            )
        ).one_or_none()
        return ServedAsset(row[0], row[1]) if row is not None else None

    async def ready_media_of(self, content_id: uuid.UUID) -> MediaAsset | None:
        """The content's playable media: its newest READY original."""
        return await self.one_or_none(
            self.select()
            .where(
                MediaAsset.content_id == content_id,
                MediaAsset.kind == MediaAssetKind.MEDIA,
                MediaAsset.source_id.is_(None),
                MediaAsset.status == MediaAssetStatus.READY,
            )
            .order_by(MediaAsset.created_at.desc(), MediaAsset.id.desc())
            .limit(1)
        )

    async def existing(self, asset_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Those of `asset_ids` that have a row, whatever its status."""
        if not asset_ids:
            return set()
        found = await self.session.scalars(
            select(MediaAsset.id).where(MediaAsset.id.in_(list(asset_ids)))
        )
        return set(found)

    async def stored_after(self, after: uuid.UUID | None, limit: int) -> Sequence[StoredAsset]:
        """The next `limit` assets that should have a file, by id."""
        query = select(MediaAsset.id, MediaAsset.storage_key).where(MediaAsset.status.in_(STORED))
        if after is not None:
            query = query.where(MediaAsset.id > after)
        rows = await self.session.execute(query.order_by(MediaAsset.id).limit(limit))
        return [StoredAsset(row.id, row.storage_key) for row in rows]

    async def mark_failed(self, asset_ids: Collection[uuid.UUID], reason: str) -> int:
        if not asset_ids:
            return 0
        result = await self.session.execute(
            update(MediaAsset)
            .where(MediaAsset.id.in_(list(asset_ids)), MediaAsset.status.in_(STORED))
            .values(status=MediaAssetStatus.FAILED, failure=reason)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)
