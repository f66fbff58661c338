"""The rules of content: creating, editing, publishing, reviewing, deleting, restoring.

Counters move with the content in the same transaction, by atomic SQL increments:
`creators.content_count` counts published, live items; `tags.usage_count` counts live
items carrying the tag.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.cache import tracking as cache_tracking
from dreamlust.config import Settings
from dreamlust.content.repository import READ_OPTIONS, ContentRepository
from dreamlust.content.schemas import (
    REQUIRED_TO_PUBLISH,
    ContentCreate,
    ContentUpdate,
    type_metadata_problems,
)
from dreamlust.content.visibility import Viewer
from dreamlust.errors import Conflict, Forbidden, InvalidInput, NotFound
from dreamlust.kit.clock import utcnow
from dreamlust.kit.compiled_once import Record
from dreamlust.kit.repository import expect_version, restore, soft_delete
from dreamlust.media import readiness
from dreamlust.models import Content, Creator, Tag, User
from dreamlust.models.enums import ContentStatus, CreatorStatus, NotificationType
from dreamlust.moderation import audit
from dreamlust.notifications import service as notifications
from dreamlust.search import index as search_index
from dreamlust.taxonomy import service as taxonomy
from dreamlust.taxonomy.repository import TagRepository

# What the search document of an item is made of, besides its creator's name.
_SEARCHED_FIELDS = frozenset({"title", "description", "tags"})


async def create_content(session: AsyncSession, creator: Creator, data: ContentCreate) -> Content:
    values = data.model_dump(exclude={"categories", "tags"}, exclude_none=True)
    _check_money(values)
    _check_schedule(values.get("scheduled_at"))
    content = Content(
        creator_id=creator.id,
        status=ContentStatus.DRAFT,
        categories=await taxonomy.categories_by_slugs(session, data.categories or []),
        tags=await _tags(session, data.tags or []),
        **values,
    )
    content.creator = creator
    await ContentRepository(session).add(content)
    await TagRepository(session).change_usage((tag.id for tag in content.tags), +1)
    await search_index.reindex(session, [content.id])
    return content


async def card(session: AsyncSession, content_id: uuid.UUID, viewer: Viewer) -> Record:
    """The item's card, if this viewer may open it; 404 otherwise."""
    row = await ContentRepository(session).card_by_id(content_id, viewer)
    if row is None:
        raise NotFound("No such content.")
    return row


async def viewable(session: AsyncSession, content_id: uuid.UUID, viewer: Viewer) -> Content:
    content = await ContentRepository(session).viewable_by_id(content_id, viewer, utcnow())
    if content is None:
        raise NotFound("No such content.")
    return content


async def manageable(
    session: AsyncSession, content_id: uuid.UUID, viewer: Viewer, *, include_deleted: bool = False
) -> Content:
    """The item if the viewer is its creator or staff; 404 otherwise, as if it did not exist."""
    content = await ContentRepository(session).owned_by_id(
        content_id, viewer, include_deleted=include_deleted
    )
    if content is None:
        raise NotFound("No such content.")
    return content


async def update_content(
    session: AsyncSession, content: Content, changes: ContentUpdate, *, expected_version: int
) -> Content:
    expect_version(content, expected_version)
    values: dict[str, Any] = changes.model_dump(
        exclude_unset=True, exclude={"version", "categories", "tags"}
    )
    merged = {**_current(content), **values}
    problems = type_metadata_problems(content.type, merged)
    if problems:
        raise InvalidInput(f"{content.type.value} content cannot have: {', '.join(problems)}")
    _check_money(merged)
    if "scheduled_at" in values:
        if content.status is not ContentStatus.DRAFT:
            raise Conflict("Only drafts can be scheduled.")
        _check_schedule(values["scheduled_at"])
    if changes.categories is not None:
        values["categories"] = await taxonomy.categories_by_slugs(session, changes.categories)
    if changes.tags is not None:
        new_tags = await _tags(session, changes.tags)
        await _retag(session, content, new_tags)
        values["tags"] = new_tags
    updated = await ContentRepository(session).update(content, values)
    if values.keys() & _SEARCHED_FIELDS:
        await search_index.reindex(session, [updated.id])
    return updated


async def publish(session: AsyncSession, content: Content, settings: Settings) -> Content:
    """DRAFT → PUBLISHED now (or PENDING_REVIEW when review is required)."""
    if content.status is not ContentStatus.DRAFT:
        raise Conflict(f"Only drafts can be published; this item is {content.status.value}.")
    if content.creator.status is not CreatorStatus.APPROVED:
        raise Forbidden("Your creator profile must be approved before you publish.")
    if (media_problem := await readiness.publish_blocker(session, content.id)) is not None:
        raise Conflict(media_problem)
    missing = [name for name in REQUIRED_TO_PUBLISH[content.type] if getattr(content, name) is None]
    if missing:
        raise InvalidInput(f"Set {', '.join(missing)} before publishing this {content.type.value}.")
    if settings.content_review_required:
        content.status = ContentStatus.PENDING_REVIEW
    else:
        await _go_live(session, content, utcnow())
    content.scheduled_at = None
    await session.flush()
    return content


async def review(
    session: AsyncSession, staff: User, content: Content, decision: str, reason: str | None
) -> Content:
    if content.status is not ContentStatus.PENDING_REVIEW:
        raise Conflict("Only content pending review can be reviewed.")
    if decision == "approve" and content.published_at is not None:
        await _back_live(session, content)  # held by reports after it was live
    elif decision == "approve":
        await _go_live(session, content, utcnow())
    else:
        content.status = ContentStatus.REJECTED
    await session.flush()
    approved = decision == "approve"
    await notifications.emit(
        session,
        notifications.to_user(
            NotificationType.CONTENT_APPROVED if approved else NotificationType.CONTENT_REJECTED,
            content.creator.user_id,
            actor_id=staff.id,
            title=f"{content.title} was {'approved' if approved else 'not approved'}",
            message=reason,
            link=f"/content/{content.id}",
            details={"content_id": str(content.id)},
        ),
    )
    await audit.record(
        session,
        actor_id=staff.id,
        action=f"content.{decision}",
        target_type="content",
        target_id=content.id,
        details={"reason": reason} if reason else None,
    )
    return content


async def for_moderation(session: AsyncSession, content_id: uuid.UUID) -> Content | None:
    """The item whatever its status, deleted or not, for a moderation decision."""
    return await ContentRepository(session).get(
        content_id, include_deleted=True, options=READ_OPTIONS
    )


async def hold_for_review(session: AsyncSession, content: Content) -> bool:
    """Published content leaves every listing, pending staff review (reports piled up on
    it), keeping its publish time; False when it is not published."""
    if content.status is not ContentStatus.PUBLISHED:
        return False
    content.status = ContentStatus.PENDING_REVIEW
    await session.flush()
    if content.deleted_at is None:
        await _change_content_count(session, content.creator_id, -1)
    return True


async def release_hold(session: AsyncSession, content: Content) -> bool:
    """Content held for review after it was published goes back as it was: published at
    its first publish time, and announced to nobody again. False when it is no longer
    held (staff reviewed it meanwhile)."""
    if content.status is not ContentStatus.PENDING_REVIEW or content.published_at is None:
        return False
    await _back_live(session, content)
    await session.flush()
    return True


async def take_down(session: AsyncSession, staff: User, content: Content) -> None:
    """Moderation hides the item for good (REJECTED): out of every listing and out of its
    creator's count; the creator is told."""
    if content.status is ContentStatus.REJECTED:
        raise Conflict("The content is already hidden.")
    counted = content.status is ContentStatus.PUBLISHED and content.deleted_at is None
    content.status = ContentStatus.REJECTED
    await session.flush()
    if counted:
        await _change_content_count(session, content.creator_id, -1)
    await notifications.emit(
        session,
        notifications.to_user(
            NotificationType.CONTENT_REJECTED,
            content.creator.user_id,
            actor_id=staff.id,
            title=f"{content.title} was taken down by moderation",
            link=f"/content/{content.id}",
            details={"content_id": str(content.id)},
        ),
    )


async def delete_content(session: AsyncSession, content: Content) -> None:
    await soft_delete(session, content)
    await _count_live(session, content, -1)


async def restore_content(
    session: AsyncSession, content: Content, *, retention: timedelta
) -> Content:
    await restore(session, content, retention=retention, what="The content")
    await _count_live(session, content, +1)
    return content


async def release_scheduled(session: AsyncSession, settings: Settings, now: datetime) -> int:
    """The worker's job: publish (or send to review) drafts whose scheduled time has come."""
    status = (
        ContentStatus.PENDING_REVIEW
        if settings.content_review_required
        else ContentStatus.PUBLISHED
    )
    released = await ContentRepository(session).release_due(now, status)
    cache_tracking.content_changed(session, [item.id for item in released])
    if status is ContentStatus.PUBLISHED:
        for item in released:
            await _change_content_count(session, item.creator_id, +1)
            await _announce_upload(session, item.id, item.creator_id, item.title)
    return len(released)


async def _go_live(session: AsyncSession, content: Content, now: datetime) -> None:
    content.status = ContentStatus.PUBLISHED
    content.published_at = now
    await _change_content_count(session, content.creator_id, +1)
    await _announce_upload(session, content.id, content.creator_id, content.title)


async def _back_live(session: AsyncSession, content: Content) -> None:
    """Content that was published once is again, as it was: no new publish time, no
    announcement (its followers heard of it the first time)."""
    content.status = ContentStatus.PUBLISHED
    if content.deleted_at is None:
        await _change_content_count(session, content.creator_id, +1)


async def _announce_upload(
    session: AsyncSession, content_id: uuid.UUID, creator_id: uuid.UUID, title: str
) -> None:
    """Followers and subscribers hear of new content: one event, fanned out by the worker."""
    await notifications.emit(
        session,
        notifications.to_followers(
            NotificationType.NEW_UPLOAD,
            creator_id,
            actor_id=None,
            title=f"New: {title}",
            link=f"/content/{content_id}",
            details={"content_id": str(content_id), "creator_id": str(creator_id)},
        ),
    )


async def _count_live(session: AsyncSession, content: Content, delta: int) -> None:
    """A deleted item stops counting anywhere; a restored one counts again."""
    tags = TagRepository(session)
    await tags.change_usage(await tags.ids_of_content(content.id), delta)
    if content.status is ContentStatus.PUBLISHED:
        await _change_content_count(session, content.creator_id, delta)


async def _change_content_count(session: AsyncSession, creator_id: uuid.UUID, delta: int) -> None:
    await session.execute(
        update(Creator)
        .where(Creator.id == creator_id)
        .values(content_count=Creator.content_count + delta)
        .execution_options(synchronize_session=False)
    )


async def _retag(session: AsyncSession, content: Content, new_tags: list[Tag]) -> None:
    old_ids = {tag.id for tag in content.tags}
    new_ids = {tag.id for tag in new_tags}
    tags = TagRepository(session)
    await tags.change_usage(new_ids - old_ids, +1)
    await tags.change_usage(old_ids - new_ids, -1)


async def _tags(session: AsyncSession, names: list[str]) -> list[Tag]:
    return await TagRepository(session).ensure(taxonomy.normalize_tags(names))


def _current(content: Content) -> dict[str, Any]:
    return {
        name: getattr(content, name)
        for name in (
            "duration",
            "width",
            "height",
            "vr_projection",
            "vr_stereo_format",
            "is_premium",
            "price",
            "currency",
        )
    }


def _check_money(values: dict[str, Any]) -> None:
    if values.get("is_premium"):
        if values.get("price") is None or values.get("currency") is None:
            raise InvalidInput("Premium content needs a positive price and a currency.")
    elif values.get("price") is not None:
        raise InvalidInput("Only premium content has a price.")


def _check_schedule(scheduled_at: datetime | None) -> None:
    if scheduled_at is not None and scheduled_at <= utcnow():
        raise InvalidInput("scheduled_at must be in the future.", loc=("body", "scheduled_at"))
