"""How much an account stores, and the check that keeps it within its quota.

Every asset of the account counts with its declared size unless it FAILED, uploads in
progress included: an upload reserves its length when it is created. Creations by one
account queue on its user row (`reserve` locks it), so two of them can never both fit
in the room left for one.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.media.upload_errors import ContentTooLarge
from dreamlust.models import MediaAsset, User
from dreamlust.models.enums import MediaAssetStatus


class QuotaExceeded(ContentTooLarge):
    slug = "storage-quota-exceeded"


async def used_bytes(session: AsyncSession, owner_id: uuid.UUID) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(MediaAsset.file_size), 0)).where(
            MediaAsset.owner_id == owner_id, MediaAsset.status != MediaAssetStatus.FAILED
        )
    )
    return int(total or 0)


async def reserve(session: AsyncSession, owner_id: uuid.UUID, size: int, quota: int) -> None:
    """Lock the owner's row for the rest of the transaction, then refuse `size` more
    bytes when they do not fit; the caller inserts its asset in the same transaction.

    FOR NO KEY UPDATE, as billing's `lock_user`: the assets inserted for the user hold
    KEY SHARE locks on its row, which FOR UPDATE would wait for. (SQLite serializes
    writing transactions anyway.)"""
    await session.execute(
        select(User.id).where(User.id == owner_id).with_for_update(key_share=True)
    )
    used = await used_bytes(session, owner_id)
    if used + size > quota:
        raise QuotaExceeded(
            f"This file ({size} bytes) does not fit in your storage quota: {used} of "
            f"{quota} bytes are used or reserved by uploads in progress. Delete media "
            "or finish or cancel uploads first."
        )
