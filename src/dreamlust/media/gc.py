"""`dreamlust media gc`: files in the store that no asset row owns, and rows of assets
whose file is gone.

A file belongs to the asset its key names (`originals/<id>`, `derived/<id>/…`), whatever
that asset's status. An orphan is deleted only once it is older than `min_age`, so a file
written just before its row is committed is never taken for one. A READY or PROCESSING
asset whose file is missing becomes FAILED ("file missing"); rows are never deleted.
Uploads still in progress live in the upload folder, not in the store, and are the
upload expiry's business.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice

from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.kit.clock import utcnow
from dreamlust.media.asset_repository import MediaAssetRepository, StoredAsset
from dreamlust.media.storage import InvalidMediaKey, MediaKey, Storage, create_storage
from dreamlust.media.storage.keys import DERIVED, ORIGINALS

FILE_MISSING = "file missing"
_BATCH = 500


@dataclass
class GcReport:
    orphan_files: list[MediaKey] = field(default_factory=list)
    # Orphans too recent to judge: their rows may be about to be committed.
    recent_files: list[MediaKey] = field(default_factory=list)
    missing_files: list[StoredAsset] = field(default_factory=list)
    # Keys this application would never make: reported, never touched.
    foreign_keys: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.orphan_files or self.missing_files)

    def lines(self, *, fixed: bool) -> Iterator[str]:
        for key in self.orphan_files:
            yield f"{'deleted' if fixed else 'orphan'} file {key}"
        for asset in self.missing_files:
            state = "failed, file missing" if fixed else "missing file"
            yield f"{state}: asset {asset.id} ({asset.storage_key})"
        for key in self.recent_files:
            yield f"recent file without a row, left for now: {key}"
        for foreign in self.foreign_keys:
            yield f"unrecognised key, left alone: {foreign}"
        yield (
            f"{len(self.orphan_files)} orphan file(s), "
            f"{len(self.missing_files)} asset(s) without a file"
        )


async def run(settings: Settings, *, check_only: bool, min_age: timedelta) -> GcReport:
    database = Database(settings)
    storage = create_storage(settings)
    try:
        return await collect(database, storage, check_only=check_only, min_age=min_age)
    finally:
        await storage.aclose()
        await database.dispose()


async def collect(
    database: Database, storage: Storage, *, check_only: bool, min_age: timedelta
) -> GcReport:
    report = GcReport()
    stored = await _stored_keys(storage, report)
    await _find_orphans(database, storage, stored, min_age, report)
    await _find_missing(database, storage, stored, report)
    if not check_only:
        for key in report.orphan_files:
            await storage.delete(key)
        async with database.transaction() as session:
            repository = MediaAssetRepository(session)
            for batch in _batches([asset.id for asset in report.missing_files]):
                await repository.mark_failed(batch, FILE_MISSING)
    return report


async def _stored_keys(storage: Storage, report: GcReport) -> set[MediaKey]:
    keys: set[MediaKey] = set()
    for prefix in (ORIGINALS, DERIVED):
        async for key in storage.keys(prefix):
            try:
                keys.add(MediaKey(key))
            except InvalidMediaKey:
                report.foreign_keys.append(key)
    return keys


async def _find_orphans(
    database: Database,
    storage: Storage,
    stored: set[MediaKey],
    min_age: timedelta,
    report: GcReport,
) -> None:
    owners = {key.asset_id for key in stored}
    existing: set[uuid.UUID] = set()
    async with database.session(write=False) as session:
        repository = MediaAssetRepository(session)
        for batch in _batches(sorted(owners)):
            existing |= await repository.existing(batch)
    cutoff = utcnow() - min_age
    for key in sorted(key for key in stored if key.asset_id not in existing):
        found = await storage.stat(key)
        if found is None:
            continue  # deleted meanwhile
        (report.orphan_files if found.modified <= cutoff else report.recent_files).append(key)


async def _find_missing(
    database: Database, storage: Storage, stored: set[MediaKey], report: GcReport
) -> None:
    after: uuid.UUID | None = None
    async with database.session(write=False) as session:
        repository = MediaAssetRepository(session)
        while batch := await repository.stored_after(after, _BATCH):
            after = batch[-1].id
            for asset in batch:
                if asset.storage_key not in stored and not await _exists(storage, asset):
                    report.missing_files.append(asset)


async def _exists(storage: Storage, asset: StoredAsset) -> bool:
    """Asked again of the store: the file may have arrived after the listing."""
    try:
        key = MediaKey(asset.storage_key)
    except InvalidMediaKey:
        return False
    return await storage.stat(key) is not None


def _batches(ids: Sequence[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    iterator = iter(ids)
    while batch := list(islice(iterator, _BATCH)):
        yield batch
