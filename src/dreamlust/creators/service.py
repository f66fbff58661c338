"""The rules of creator profiles and their review by staff."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.config import Settings
from dreamlust.creators.repository import NEWEST, POPULAR, WITH_CATEGORIES, CreatorRepository
from dreamlust.creators.schemas import CreatorCreate, CreatorUpdate
from dreamlust.errors import Conflict, NotFound
from dreamlust.kit.clock import utcnow
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.kit.repository import expect_version
from dreamlust.models import Creator, User
from dreamlust.models.enums import CreatorStatus, UserRole
from dreamlust.moderation import audit
from dreamlust.search import index as search_index
from dreamlust.taxonomy import service as taxonomy

# Which status each staff decision moves a creator to, and from which statuses it may.
_DECISIONS: dict[str, tuple[CreatorStatus, frozenset[CreatorStatus]]] = {
    "approve": (
        CreatorStatus.APPROVED,
        frozenset({CreatorStatus.PENDING, CreatorStatus.REJECTED, CreatorStatus.SUSPENDED}),
    ),
    "reject": (CreatorStatus.REJECTED, frozenset({CreatorStatus.PENDING})),
    "suspend": (CreatorStatus.SUSPENDED, frozenset({CreatorStatus.APPROVED})),
}


async def become_creator(
    session: AsyncSession, user: User, data: CreatorCreate, settings: Settings
) -> Creator:
    repository = CreatorRepository(session)
    if await repository.of_user(user.id, include_deleted=True) is not None:
        raise Conflict("This account already has a creator profile.")
    if await repository.handle_taken(data.handle):
        raise Conflict("That handle is unavailable.")
    categories = await taxonomy.categories_by_slugs(session, data.categories)
    creator = Creator(
        user_id=user.id,
        status=CreatorStatus.APPROVED if settings.auto_approve_creators else CreatorStatus.PENDING,
        categories=categories,
        **data.model_dump(exclude={"categories"}),
    )
    await repository.add(creator)
    user.is_creator = True
    if not user.role.at_least(UserRole.CREATOR):
        user.role = UserRole.CREATOR
    await session.flush()
    return creator


async def my_profile(session: AsyncSession, user: User) -> Creator:
    creator = await CreatorRepository(session).of_user(user.id)
    if creator is None:
        raise NotFound("You have no creator profile yet.")
    return creator


def visible_to(creator: Creator, viewer: User | None) -> bool:
    """Approved creators are public; others only to themselves and staff."""
    if creator.status is CreatorStatus.APPROVED:
        return True
    return viewer is not None and (
        viewer.id == creator.user_id or viewer.role.at_least(UserRole.MODERATOR)
    )


async def public_profile(session: AsyncSession, handle: str, viewer: User | None) -> Creator:
    creator = await CreatorRepository(session).by_handle(handle)
    if creator is None or not visible_to(creator, viewer):
        raise NotFound("No such creator.")
    return creator


async def visible_profile(session: AsyncSession, creator_id: uuid.UUID, viewer: User) -> Creator:
    """The profile by id, if this viewer may see it; 404 otherwise."""
    creator = await CreatorRepository(session).get(creator_id)
    if creator is None or not visible_to(creator, viewer):
        raise NotFound("No such creator.")
    return creator


async def for_moderation(session: AsyncSession, creator_id: uuid.UUID) -> Creator | None:
    """The profile, deleted or not, for a moderation decision."""
    return await CreatorRepository(session).get(creator_id, include_deleted=True)


async def list_creators(
    session: AsyncSession,
    page: PageRequest,
    paginator: Paginator,
    *,
    category: str | None,
    verified: bool | None,
    popular: bool,
) -> KeysetPage[Creator]:
    repository = CreatorRepository(session)
    stmt = repository.public_listing(category=category, verified=verified)
    return await repository.page(stmt, POPULAR if popular else NEWEST, page, paginator)


async def update_profile(
    session: AsyncSession, creator: Creator, changes: CreatorUpdate, *, expected_version: int
) -> Creator:
    expect_version(creator, expected_version)
    values: dict[str, Any] = changes.model_dump(
        exclude_unset=True, exclude={"version", "categories"}
    )
    if changes.categories is not None:
        values["categories"] = await taxonomy.categories_by_slugs(session, changes.categories)
    renamed = values.get("display_name", creator.display_name) != creator.display_name
    updated = await CreatorRepository(session).update(creator, values)
    if renamed:
        # Content is found by its creator's name too.
        await search_index.reindex_creator(session, creator.id)
    return updated


async def decide(
    session: AsyncSession, staff: User, creator_id: uuid.UUID, decision: str, reason: str | None
) -> Creator:
    """Apply a staff decision (approve, reject, suspend, verify); each is audited."""
    repository = CreatorRepository(session)
    creator = await repository.get(creator_id, options=[WITH_CATEGORIES])
    if creator is None:
        raise NotFound("No such creator.")
    before = creator.status
    if decision == "verify":
        if creator.status is not CreatorStatus.APPROVED:
            raise Conflict("Only approved creators can be verified.")
        await repository.update(creator, {"is_verified": True, "verified_at": utcnow()})
    else:
        target, allowed_from = _DECISIONS[decision]
        if creator.status not in allowed_from:
            raise Conflict(f"A {creator.status.value} creator cannot be {target.value.lower()}.")
        await repository.update(creator, {"status": target})
    await audit.record(
        session,
        actor_id=staff.id,
        action=f"creator.{decision}",
        target_type="creator",
        target_id=creator.id,
        details={"before": before.value, "after": creator.status.value, "reason": reason},
    )
    return creator
