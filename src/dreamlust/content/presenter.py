"""Content as a given viewer may see it: blurred, locked or whole."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content.entitlements import is_owner, unlocked
from dreamlust.content.schemas import ContentRead
from dreamlust.content.visibility import Viewer
from dreamlust.creators.schemas import CategoryRef, CreatorSummary
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import KeysetPage
from dreamlust.kit.schemas import Page
from dreamlust.models import Content

_COLUMN_FIELDS = tuple(
    name
    for name in ContentRead.model_fields
    if name not in {"creator", "categories", "tags", "is_blurred", "is_locked"}
)


def present(content: Content, viewer: Viewer, *, unlocked: bool) -> ContentRead:
    own = is_owner(content, viewer) or viewer.is_staff
    blurred = content.is_nsfw and viewer.blurs_nsfw and not own
    locked = content.is_premium and not (own or unlocked)
    own_fields = {name: getattr(content, name) for name in _COLUMN_FIELDS}
    read = ContentRead.model_validate(
        {
            **own_fields,
            "creator": CreatorSummary.model_validate(content.creator),
            "categories": [CategoryRef.model_validate(category) for category in content.categories],
            "tags": [tag.name for tag in content.tags],
            "is_blurred": blurred,
            "is_locked": locked,
        }
    )
    if blurred:  # the blur placeholder stands in for the picture and the media
        read.media_url = None
        read.thumbnail_url = None
    if locked:
        read.media_url = None
    return read


async def present_one(session: AsyncSession, content: Content, viewer: Viewer) -> ContentRead:
    granted = await unlocked(session, viewer, [content], utcnow())
    return present(content, viewer, unlocked=content.id in granted)


async def present_page(
    session: AsyncSession, page: KeysetPage[Content], viewer: Viewer
) -> Page[ContentRead]:
    granted = await unlocked(session, viewer, page.items, utcnow())
    return Page[ContentRead](
        items=[present(item, viewer, unlocked=item.id in granted) for item in page.items],
        next_cursor=page.next_cursor,
    )
