"""The purge's backlog: content soft-deleted past the retention, with its views, likes,
playlist entries, stored media and a purchase in the ledger, beside live content."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.media.storage import original_key
from dreamlust.models import Content, Like, MediaAsset, PlaylistItem, Transaction, View
from dreamlust.models.enums import (
    ContentStatus,
    ContentType,
    MediaAssetKind,
    MediaAssetStatus,
    TransactionStatus,
    TransactionType,
)
from tests.fixtures.factories import make_creator, make_playlist, make_user
from tests.worker_faults.scene import Scene

# Files of content deleted long ago were written long ago (older than the media gc's
# minimum age, which removes those a purge killed after its commit leaves behind).
_WRITTEN_AGO = timedelta(days=40).total_seconds()


@dataclass
class DeletedContent:
    """Content deleted past the retention, purged 20 items at a time (one transaction
    each, its files deleted once it has committed)."""

    deleted: int = 600
    live: int = 100
    variables: dict[str, str] = field(default_factory=lambda: {"DREAMLUST_PURGE_BATCH_SIZE": "20"})
    live_ids: set[uuid.UUID] = field(default_factory=set)
    files: dict[bool, list[Path]] = field(default_factory=lambda: {True: [], False: []})

    async def prepare(self, scene: Scene) -> None:
        now = utcnow()
        async with scene.session() as session:
            creator = await make_creator(session)
            fan = await make_user(session)
            playlist = await make_playlist(session, fan)
            items, views, likes, entries, assets = [], [], [], [], []
            for number in range(self.deleted + self.live):
                item_id, asset_id = new_id(), new_id()
                deleted = number < self.deleted
                if not deleted:
                    self.live_ids.add(item_id)
                items.append(
                    {
                        "id": item_id,
                        "creator_id": creator.id,
                        "title": f"Item {number}",
                        "type": ContentType.PHOTO,
                        "status": ContentStatus.PUBLISHED,
                        "published_at": now - timedelta(days=60),
                        "deleted_at": now - timedelta(days=40) if deleted else None,
                    }
                )
                views.append({"content_id": item_id, "user_id": fan.id, "viewer_hash": "fan"})
                likes.append({"content_id": item_id, "user_id": fan.id})
                entries.append(
                    {"playlist_id": playlist.id, "content_id": item_id, "position": number}
                )
                assets.append(
                    {
                        "id": asset_id,
                        "owner_id": creator.user_id,
                        "content_id": item_id,
                        "kind": MediaAssetKind.MEDIA,
                        "status": MediaAssetStatus.READY,
                        "storage_key": str(original_key(asset_id)),
                        "mime_type": "image/png",
                        "file_size": 16,
                    }
                )
                self.files[deleted].append(scene.media_dir / str(original_key(asset_id)))
            for model, rows in (
                (Content, items),
                (View, views),
                (Like, likes),
                (PlaylistItem, entries),
                (MediaAsset, assets),
            ):
                await session.execute(insert(model), rows)
            await session.execute(
                insert(Transaction).values(
                    user_id=fan.id,
                    creator_id=creator.id,
                    content_id=items[0]["id"],
                    type=TransactionType.PREMIUM_CONTENT,
                    status=TransactionStatus.COMPLETED,
                    amount=Decimal("3.00"),
                    fee=Decimal("0.60"),
                    currency="USD",
                )
            )
            await session.commit()
        (scene.media_dir / "originals").mkdir(parents=True, exist_ok=True)
        for path in [*self.files[True], *self.files[False]]:
            path.write_bytes(b"\0" * 16)
            os.utime(path, (time.time() - _WRITTEN_AGO,) * 2)

    async def _deleted_left(self, scene: Scene) -> int:
        return await scene.count("SELECT count(*) FROM content WHERE deleted_at IS NOT NULL")

    async def at_work(self, scene: Scene) -> bool:
        return 0 < await self._deleted_left(scene) < self.deleted

    async def assert_unfinished(self, scene: Scene) -> None:
        assert await self._deleted_left(scene) > 0

    async def before_rerun(self, scene: Scene) -> None:
        return None

    async def assert_finished(self, scene: Scene) -> None:
        items = await scene.rows("SELECT id FROM content")
        assert {row.id for row in items} == self.live_ids
        for table in ("views", "likes", "playlist_items", "media_assets"):
            owners = await scene.rows(f"SELECT content_id FROM {table}")  # noqa: S608
            assert sorted(row.content_id for row in owners) == sorted(self.live_ids), table
        assert not any(path.exists() for path in self.files[True])
        assert all(path.is_file() for path in self.files[False])
        [purchase] = await scene.rows("SELECT content_id, amount FROM transactions")
        assert (purchase.content_id, purchase.amount) == (None, Decimal("3.00"))
