"""Which file a viewer may fetch: a READY asset or a file of a content's HLS stream, under
the visibility rules of the content it belongs to.

The content is read through the content card, the one read path that decides what a
viewer sees of an item, so these rules cannot drift from `GET /content/{id}`:
- content this viewer may not open (hidden, deleted, someone else's draft …) is 404;
- an NSFW item the viewer sees behind its blur placeholder keeps its pictures and media
  out of reach: 404, as if they did not exist;
- premium media the viewer is not entitled to are 403 (`MediaLocked`): the item itself
  is listed and says `is_locked`, so there is nothing to hide;
- thumbnails and posters are listing material, served to whoever the item is listed for,
  premium or not.
The owner and staff get everything that is not deleted. An asset that belongs to no
content reaches its owner and staff alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content import cards
from dreamlust.content import service as content
from dreamlust.content.visibility import Viewer
from dreamlust.errors import Forbidden, NotFound
from dreamlust.media.asset_repository import MediaAssetRepository
from dreamlust.media.storage import InvalidMediaKey, MediaKey, derived_key
from dreamlust.models import MediaAsset
from dreamlust.models.enums import MediaAssetKind

BINARY = "application/octet-stream"
# Files of an HLS stream, by how their names end.
HLS_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/mp4",
    ".mp4": "video/mp4",
}


class MediaLocked(Forbidden):
    slug = "media-locked"

    def __init__(self) -> None:
        super().__init__("This is premium content: buy it or subscribe to its creator to play it.")


class Caching(Enum):
    """How long and by whom a served file may be kept."""

    SHARED = "public, max-age=3600"  # served to anonymous viewers: anyone may have it
    PRIVATE = "private, max-age=3600"
    REVALIDATE = "private, no-cache"  # playlists: always asked again


@dataclass(frozen=True, slots=True)
class ServedFile:
    key: MediaKey
    content_type: str
    filename: str
    caching: Caching

    @property
    def is_playlist(self) -> bool:
        return self.content_type == HLS_TYPES[".m3u8"]


async def asset_file(session: AsyncSession, asset_id: uuid.UUID, viewer: Viewer) -> ServedFile:
    """The file of a READY asset, if this viewer may have it; 404 or 403 otherwise."""
    found = await MediaAssetRepository(session).ready(asset_id)
    if found is None:
        raise _missing()
    asset, content_id = found
    if content_id is None:
        if not (viewer.is_staff or asset.owner_id == viewer.user_id):
            raise _missing()
    else:
        await _check_content(
            session, content_id, viewer, listing_only=asset.kind is not MediaAssetKind.MEDIA
        )
    return ServedFile(
        key=MediaKey(asset.storage_key),
        content_type=asset.mime_type or BINARY,
        filename=_filename(asset),
        caching=_caching(viewer),
    )


async def hls_file(
    session: AsyncSession, content_id: uuid.UUID, path: str, viewer: Viewer
) -> ServedFile:
    """A file of the HLS stream of the content's media (`master.m3u8`,
    `720p/index.m3u8`, `720p/segment-00001.ts` …), under the rules of its media."""
    try:
        derived_key(uuid.UUID(int=0), f"hls/{path}")  # a name outside the allow-list: 404
    except InvalidMediaKey:
        raise _missing() from None
    await _check_content(session, content_id, viewer, listing_only=False)
    media = await MediaAssetRepository(session).ready_media_of(content_id)
    if media is None:
        raise _missing()
    content_type = HLS_TYPES.get(_suffix(path), BINARY)
    playlist = content_type == HLS_TYPES[".m3u8"]
    return ServedFile(
        key=derived_key(media.id, f"hls/{path}"),
        content_type=content_type,
        filename=path.rsplit("/", 1)[-1],
        caching=Caching.REVALIDATE if playlist else _caching(viewer),
    )


async def _check_content(
    session: AsyncSession, content_id: uuid.UUID, viewer: Viewer, *, listing_only: bool
) -> None:
    row = await content.card(session, content_id, viewer)  # 404 when not viewable
    [item] = await cards.cards(session, [row], viewer)
    if item["is_blurred"]:
        raise _missing()
    if item["is_locked"] and not listing_only:
        raise MediaLocked


def _caching(viewer: Viewer) -> Caching:
    # Anonymous viewers see the least of anyone: what they are served, everyone may be.
    return Caching.SHARED if viewer.user is None else Caching.PRIVATE


def _filename(asset: MediaAsset) -> str:
    if asset.original_filename:
        return asset.original_filename
    return asset.storage_key.rsplit("/", 1)[-1]


def _suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name[name.rfind(".") :] if "." in name else ""


def _missing() -> NotFound:
    return NotFound("No such media.")
