"""Whether a content item's media lets it be published: processing must have finished."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.media.processing_repository import ProcessingRepository
from dreamlust.models.enums import MediaAssetStatus

STILL_PROCESSING = "The media is still being processed."
_UNFINISHED = frozenset({MediaAssetStatus.UPLOADING, MediaAssetStatus.PROCESSING})


async def publish_blocker(session: AsyncSession, content_id: uuid.UUID) -> str | None:
    """Why the content cannot be published yet because of its media, or None: a media
    file still uploading or processing, or a newest one that failed with none READY."""
    states = await ProcessingRepository(session).media_states(content_id)
    statuses = {status for status, _ in states}
    if statuses & _UNFINISHED:
        return STILL_PROCESSING
    if (
        states
        and states[0][0] is MediaAssetStatus.FAILED
        and MediaAssetStatus.READY not in statuses
    ):
        return f"The media could not be processed: {states[0][1] or 'no reason was given'}"
    return None
