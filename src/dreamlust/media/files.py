"""The files of media assets in the store, as a whole."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from dreamlust.media.storage import Storage, derived_prefix, original_key


async def delete_files_of(storage: Storage, asset_ids: Iterable[uuid.UUID]) -> None:
    """Removes each asset's original and every file derived from it; files already gone
    are fine, so a purge that failed half-way can simply run again."""
    for asset_id in asset_ids:
        await storage.delete(original_key(asset_id))
        await storage.delete_prefix(derived_prefix(asset_id))
