"""Backlogs of the media jobs: a video to process, abandoned uploads, stored files no
asset owns."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.media.storage import original_key
from dreamlust.models import MediaAsset
from dreamlust.models.enums import MediaAssetKind, MediaAssetStatus
from tests.fixtures.factories import make_user
from tests.fixtures.media_files import make_video, require_ffmpeg
from tests.fixtures.processing import Waiting, waiting_asset
from tests.worker_faults.scene import Scene

# Files written this long ago: what the jobs may take for abandoned or orphaned.
_LONG_AGO = timedelta(days=2).total_seconds()


@dataclass
class UploadedVideo:
    """A video waiting to be processed: poster, thumbnails and HLS renditions made
    outside any transaction under a lease, the outcome committed at the end. The
    lease is short, so that the run after the kill may take the video over."""

    variables: dict[str, str] = field(
        default_factory=lambda: {"DREAMLUST_MEDIA_PROCESSING_LEASE_SECONDS": "3"}
    )
    waiting: Waiting | None = None

    @property
    def asset_id(self) -> uuid.UUID:
        assert self.waiting is not None
        return self.waiting.asset.id

    async def prepare(self, scene: Scene) -> None:
        require_ffmpeg()
        source = await asyncio.to_thread(
            make_video, scene.folder / "source.mp4", seconds=6, size="640x360"
        )
        async with scene.session() as session:
            self.waiting = await waiting_asset(
                session, scene.runtime, mime_type="video/mp4", path=source
            )

    async def at_work(self, scene: Scene) -> bool:
        """The poster is stored just before the transcoding starts."""
        return (scene.media_dir / "derived" / str(self.asset_id) / "poster.jpg").exists()

    async def assert_unfinished(self, scene: Scene) -> None:
        [asset] = await scene.rows(
            "SELECT status, processing_attempts FROM media_assets WHERE id = :id",
            id=self.asset_id,
        )
        assert (asset.status, asset.processing_attempts) == ("PROCESSING", 1)

    async def before_rerun(self, scene: Scene) -> None:
        """Wait for the killed worker's lease to run out (it is never renewed again)."""
        async with asyncio.timeout(30):
            while True:
                held = await scene.count(
                    "SELECT count(*) FROM media_assets WHERE lease_until > now()"
                )
                if not held:
                    return
                await asyncio.sleep(0.2)

    async def assert_finished(self, scene: Scene) -> None:
        [asset] = await scene.rows(
            "SELECT status, processing_attempts FROM media_assets WHERE id = :id",
            id=self.asset_id,
        )
        assert (asset.status, asset.processing_attempts) == ("READY", 2)
        derived = await scene.rows(
            "SELECT id, kind, storage_key FROM media_assets WHERE source_id = :id",
            id=self.asset_id,
        )
        assert Counter(row.kind for row in derived) == {"POSTER": 1, "THUMBNAIL": 2}
        for row in derived:
            assert (scene.media_dir / row.storage_key).is_file()
        [content] = await scene.rows(
            "SELECT media_url, streaming_info FROM content WHERE id = "
            "(SELECT content_id FROM media_assets WHERE id = :id)",
            id=self.asset_id,
        )
        assert content.media_url == f"/api/v1/media/{self.asset_id}"
        assert content.streaming_info["hls"].endswith("/hls/master.m3u8")
        hls = scene.media_dir / "derived" / str(self.asset_id) / "hls"
        stored = {path.relative_to(hls).as_posix() for path in hls.rglob("*") if path.is_file()}
        assert stored == _listed_in(hls, "master.m3u8")


def _listed_in(folder: Path, playlist: str) -> set[str]:
    """The playlist and every file it lists, and theirs in turn."""
    found = {playlist}
    base = Path(playlist).parent
    for line in (folder / playlist).read_text().splitlines():
        if line and not line.startswith("#"):
            entry = (base / line).as_posix()
            found |= _listed_in(folder, entry) if entry.endswith(".m3u8") else {entry}
    return found


@dataclass
class AbandonedUploads:
    """Uploads left unfinished past their expiry, deleted 500 at a time (one transaction
    each, then their staged files), beside uploads still in progress."""

    abandoned: int = 5_000
    in_progress: int = 50
    variables: dict[str, str] = field(default_factory=dict)
    kept: set[uuid.UUID] = field(default_factory=set)

    async def prepare(self, scene: Scene) -> None:
        now = utcnow()
        scene.upload_dir.mkdir(parents=True, exist_ok=True)
        async with scene.session() as session:
            owner = await make_user(session, is_creator=True)
            rows = []
            for number in range(self.abandoned + self.in_progress):
                upload_id = new_id()
                expired = number < self.abandoned
                rows.append(
                    {
                        "id": upload_id,
                        "owner_id": owner.id,
                        "kind": MediaAssetKind.MEDIA,
                        "status": MediaAssetStatus.UPLOADING,
                        "storage_key": str(original_key(upload_id)),
                        "file_size": 1_000,
                        "upload_offset": 16,
                        "upload_expires_at": (
                            now - timedelta(days=1) + timedelta(seconds=number)
                            if expired
                            else now + timedelta(hours=1)
                        ),
                    }
                )
                staged = scene.upload_dir / str(upload_id)
                staged.write_bytes(b"\0" * 16)
                if expired:
                    os.utime(staged, (time.time() - _LONG_AGO,) * 2)
                else:
                    self.kept.add(upload_id)
            await session.execute(insert(MediaAsset), rows)
            await session.commit()

    async def _left(self, scene: Scene) -> int:
        return await scene.count("SELECT count(*) FROM media_assets") - self.in_progress

    async def at_work(self, scene: Scene) -> bool:
        return 0 < await self._left(scene) < self.abandoned

    async def assert_unfinished(self, scene: Scene) -> None:
        assert await self._left(scene) > 0

    async def before_rerun(self, scene: Scene) -> None:
        return None

    async def assert_finished(self, scene: Scene) -> None:
        rows = await scene.rows("SELECT id, status FROM media_assets")
        assert {row.id for row in rows} == self.kept
        assert {row.status for row in rows} == {"UPLOADING"}
        assert {uuid.UUID(path.name) for path in scene.upload_dir.iterdir()} == self.kept


@dataclass
class StoredGarbage:
    """Stored files no asset owns, deleted one by one, and assets whose file is gone,
    marked FAILED at the end, beside assets with their files."""

    orphans: int = 4_000
    owned: int = 100
    missing: int = 50
    variables: dict[str, str] = field(default_factory=dict)
    orphan_paths: list[Path] = field(default_factory=list)
    owned_paths: list[Path] = field(default_factory=list)

    async def prepare(self, scene: Scene) -> None:
        originals = scene.media_dir / "originals"
        originals.mkdir(parents=True, exist_ok=True)
        async with scene.session() as session:
            owner = await make_user(session, is_creator=True)
            rows = []
            for number in range(self.owned + self.missing):
                asset_id = new_id()
                rows.append(
                    {
                        "id": asset_id,
                        "owner_id": owner.id,
                        "kind": MediaAssetKind.MEDIA,
                        "status": MediaAssetStatus.READY,
                        "storage_key": str(original_key(asset_id)),
                        "mime_type": "image/png",
                        "file_size": 16,
                    }
                )
                if number < self.owned:
                    self.owned_paths.append(scene.media_dir / str(original_key(asset_id)))
            await session.execute(insert(MediaAsset), rows)
            await session.commit()
        self.orphan_paths = [originals / str(uuid.uuid4()) for _ in range(self.orphans)]
        for path in [*self.owned_paths, *self.orphan_paths]:
            path.write_bytes(b"\0" * 16)
            os.utime(path, (time.time() - _LONG_AGO,) * 2)

    def _orphans_left(self) -> int:
        return sum(1 for path in self.orphan_paths if path.exists())

    async def at_work(self, scene: Scene) -> bool:
        return 0 < await asyncio.to_thread(self._orphans_left) < self.orphans

    async def assert_unfinished(self, scene: Scene) -> None:
        assert self._orphans_left() > 0
        assert await scene.count("SELECT count(*) FROM media_assets WHERE status = 'FAILED'") == 0

    async def before_rerun(self, scene: Scene) -> None:
        return None

    async def assert_finished(self, scene: Scene) -> None:
        assert self._orphans_left() == 0
        assert all(path.is_file() for path in self.owned_paths)
        states = Counter(
            (row.status, row.failure)
            for row in await scene.rows("SELECT status, failure FROM media_assets")
        )
        assert states == {("READY", None): self.owned, ("FAILED", "file missing"): self.missing}
