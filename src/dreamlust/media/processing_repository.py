"""The queries of media processing: leases on assets, their results, and what the
content shows of them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, or_, select, update

from dreamlust.cache import tracking as cache_tracking
from dreamlust.kit.repository import Repository
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import Content, MediaAsset
from dreamlust.models.enums import ContentType, MediaAssetKind, MediaAssetStatus


class ProcessingRepository(Repository[MediaAsset]):
    model = MediaAsset

    async def next_claimable(self, now: datetime) -> MediaAsset | None:
        """The oldest PROCESSING asset nobody holds a lease on, locked; on PostgreSQL
        assets another worker is claiming are skipped."""
        return await self.one_or_none(
            select(MediaAsset)
            .where(
                MediaAsset.status == MediaAssetStatus.PROCESSING,
                or_(MediaAsset.lease_until.is_(None), MediaAsset.lease_until <= now),
            )
            .order_by(MediaAsset.created_at, MediaAsset.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )

    async def content_type(self, content_id: uuid.UUID) -> ContentType | None:
        value = await self.session.scalar(
            select(Content.type)
            .where(Content.id == content_id)
            .execution_options(**{INCLUDE_DELETED: True})
        )
        return ContentType(value) if value is not None else None

    async def renew_lease(self, asset_id: uuid.UUID, held: datetime, until: datetime) -> bool:
        return await self._update_leased(asset_id, held, lease_until=until)

    async def release_lease(self, asset_id: uuid.UUID, held: datetime) -> bool:
        """Lets the asset be claimed again at once (its attempt stays counted)."""
        return await self._update_leased(asset_id, held, lease_until=None)

    async def finish(self, asset_id: uuid.UUID, held: datetime, **values: Any) -> bool:
        """Sets the asset's outcome if the lease `held` is still the asset's: a worker
        whose lease passed to another never overwrites that worker's result."""
        return await self._update_leased(asset_id, held, lease_until=None, **values)

    async def fail(self, asset_id: uuid.UUID, reason: str) -> None:
        await self.session.execute(
            update(MediaAsset)
            .where(MediaAsset.id == asset_id)
            .values(status=MediaAssetStatus.FAILED, failure=reason, lease_until=None)
            .execution_options(synchronize_session=False)
        )

    async def replace_derived(self, source_id: uuid.UUID, rows: Sequence[MediaAsset]) -> None:
        """The rows of the files derived from `source_id`, in place of any earlier ones."""
        await self.session.execute(
            delete(MediaAsset)
            .where(MediaAsset.source_id == source_id)
            .execution_options(synchronize_session=False)
        )
        self.session.add_all(rows)
        await self.session.flush()

    async def has_custom_thumbnail(self, content_id: uuid.UUID) -> bool:
        """Whether the creator's own thumbnail upload for the content is READY: it wins
        over one taken from the media."""
        found = await self.session.scalar(
            select(
                exists().where(
                    MediaAsset.content_id == content_id,
                    MediaAsset.kind == MediaAssetKind.THUMBNAIL,
                    MediaAsset.source_id.is_(None),
                    MediaAsset.status == MediaAssetStatus.READY,
                )
            )
        )
        return bool(found)

    async def update_content(self, content_id: uuid.UUID, values: dict[str, Any]) -> None:
        """Sets only the fields measured from the media, as a new version: an edit the
        creator sent against the old version is refused as stale instead of lost."""
        await self.session.execute(
            update(Content)
            .where(Content.id == content_id)
            .values(**values, version=Content.version + 1)
            .execution_options(synchronize_session=False)
        )
        cache_tracking.content_changed(self.session, [content_id])

    async def media_states(
        self, content_id: uuid.UUID
    ) -> Sequence[tuple[MediaAssetStatus, str | None]]:
        """(status, failure) of each media file uploaded for the content, newest first."""
        rows = await self.session.execute(
            select(MediaAsset.status, MediaAsset.failure)
            .where(
                MediaAsset.content_id == content_id,
                MediaAsset.kind == MediaAssetKind.MEDIA,
                MediaAsset.source_id.is_(None),
            )
            .order_by(MediaAsset.created_at.desc(), MediaAsset.id.desc())
        )
        return [(row.status, row.failure) for row in rows]

    async def _update_leased(self, asset_id: uuid.UUID, held: datetime, **values: Any) -> bool:
        result = await self.session.execute(
            update(MediaAsset)
            .where(
                MediaAsset.id == asset_id,
                MediaAsset.status == MediaAssetStatus.PROCESSING,
                MediaAsset.lease_until == held,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1
