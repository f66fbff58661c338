"""The rules of categories (admin-curated) and tags (created on first use)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.errors import Conflict, InvalidInput, NotFound
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.kit.repository import restore, soft_delete
from dreamlust.models import Category, Tag, User
from dreamlust.moderation import audit
from dreamlust.taxonomy.repository import (
    CATEGORY_ORDER,
    TAGS_BY_NAME,
    TAGS_BY_POPULARITY,
    CategoryRepository,
    TagRepository,
)
from dreamlust.taxonomy.schemas import CategoryCreate, CategoryUpdate
from dreamlust.taxonomy.slugs import normalize_tag, slugify

MAX_TAGS_PER_CONTENT = 20


async def list_categories(
    session: AsyncSession, page: PageRequest, paginator: Paginator, *, include_inactive: bool
) -> KeysetPage[Category]:
    repository = CategoryRepository(session)
    stmt = repository.listing(include_inactive=include_inactive)
    return await repository.page(stmt, CATEGORY_ORDER, page, paginator)


async def get_category(session: AsyncSession, slug: str) -> Category:
    category = await CategoryRepository(session).by_slug(slug)
    if category is None:
        raise NotFound("No such category.")
    return category


async def create_category(session: AsyncSession, admin: User, data: CategoryCreate) -> Category:
    slug = data.slug or slugify(data.name)
    if not slug:
        raise InvalidInput("The name needs at least one letter or digit to make a slug.")
    repository = CategoryRepository(session)
    if await repository.by_slug(slug, include_deleted=True) is not None:
        raise Conflict(f"The slug {slug!r} is taken.")
    category = await repository.add(Category(**data.model_dump(exclude={"slug"}), slug=slug))
    await _audit(session, admin, "category.create", category)
    return category


async def update_category(
    session: AsyncSession, admin: User, category: Category, changes: CategoryUpdate
) -> Category:
    values = changes.model_dump(exclude_unset=True)
    if values.get("slug") and values["slug"] != category.slug:
        taken = await CategoryRepository(session).by_slug(values["slug"], include_deleted=True)
        if taken is not None:
            raise Conflict(f"The slug {values['slug']!r} is taken.")
    await CategoryRepository(session).update(category, values)
    await _audit(session, admin, "category.update", category, values)
    return category


async def delete_category(session: AsyncSession, admin: User, category: Category) -> None:
    await soft_delete(session, category)
    await _audit(session, admin, "category.delete", category)


async def restore_category(
    session: AsyncSession, admin: User, slug: str, *, retention: timedelta
) -> Category:
    """A live category is a 409, as a live account or content item is."""
    category = await CategoryRepository(session).by_slug(slug, include_deleted=True)
    if category is None:
        raise NotFound("No such category.")
    await restore(session, category, retention=retention, what="The category")
    await _audit(session, admin, "category.restore", category)
    return category


async def list_tags(
    session: AsyncSession,
    page: PageRequest,
    paginator: Paginator,
    *,
    prefix: str | None,
    popular: bool,
) -> KeysetPage[Tag]:
    repository = TagRepository(session)
    normalized = normalize_tags([prefix])[0] if prefix else None
    ordering = TAGS_BY_POPULARITY if popular else TAGS_BY_NAME
    return await repository.page(repository.listing(normalized), ordering, page, paginator)


async def categories_by_slugs(session: AsyncSession, slugs: list[str]) -> list[Category]:
    """The active categories with these slugs; any unknown slug is a 422 on `categories`."""
    categories = await CategoryRepository(session).by_slugs(slugs)
    unknown = set(slugs) - {category.slug for category in categories}
    if unknown:
        raise InvalidInput(
            f"Unknown categories: {', '.join(sorted(unknown))}.", loc=("body", "categories")
        )
    return categories


def normalize_tags(names: list[str]) -> list[str]:
    """Canonical, de-duplicated tag names in the order given; at most 20."""
    try:
        normalized = list(dict.fromkeys(normalize_tag(name) for name in names))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    if len(normalized) > MAX_TAGS_PER_CONTENT:
        raise InvalidInput(f"At most {MAX_TAGS_PER_CONTENT} tags per content item.")
    return normalized


async def _audit(
    session: AsyncSession,
    admin: User,
    action: str,
    category: Category,
    changes: dict[str, object] | None = None,
) -> None:
    await audit.record(
        session,
        actor_id=admin.id,
        action=action,
        target_type="category",
        target_id=category.id,
        details={"slug": category.slug, **({"changes": changes} if changes else {})},
    )
