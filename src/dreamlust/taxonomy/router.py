"""HTTP surface of categories and tags."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query, Request, Response, status

from dreamlust.auth.dependencies import Admin, OptionalUser
from dreamlust.cache.entries import Answer
from dreamlust.cache.public_answers import json_answer, serve_public
from dreamlust.cache.tracking import CATALOG, LISTS
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep, SettingsDep
from dreamlust.errors import Forbidden, Unauthorized
from dreamlust.kit.schemas import Page, SingleLine
from dreamlust.models import Category
from dreamlust.models.enums import UserRole
from dreamlust.request_session import api_router
from dreamlust.runtime import runtime_of
from dreamlust.taxonomy import service
from dreamlust.taxonomy.schemas import CategoryCreate, CategoryRead, CategoryUpdate, TagRead

router = api_router(tags=["taxonomy"])
SlugPath = Annotated[str, Path(max_length=100), SingleLine]


@router.get("/categories", response_model=Page[CategoryRead])
async def list_categories(
    session: DbSession,
    page: PageParams,
    paginator: PaginatorDep,
    viewer: OptionalUser,
    request: Request,
    include_inactive: bool = False,
) -> Response:
    """The active categories in display order (cached); administrators may ask for the
    inactive ones too."""

    async def read() -> Answer:
        result = await service.list_categories(
            session, page, paginator, include_inactive=include_inactive
        )
        return json_answer(Page[CategoryRead].model_validate(result))

    if include_inactive:
        if viewer is None:
            raise Unauthorized("Sign in as an administrator to list inactive categories.")
        if not viewer.role.at_least(UserRole.ADMIN):
            raise Forbidden("Only administrators can list inactive categories.")
        return (await read()).response()
    return await serve_public(
        runtime_of(request).cache,
        name="categories",
        key=f"{page.limit}:{page.cursor or ''}",
        scopes=(CATALOG,),
        read=read,
    )


@router.get("/categories/{slug}", response_model=CategoryRead)
async def read_category(slug: SlugPath, session: DbSession) -> Category:
    return await service.get_category(session, slug)


@router.post("/categories", status_code=status.HTTP_201_CREATED, response_model=CategoryRead)
async def create_category(data: CategoryCreate, admin: Admin, session: DbSession) -> Category:
    return await service.create_category(session, admin, data)


@router.patch("/categories/{slug}", response_model=CategoryRead)
async def update_category(
    slug: SlugPath, changes: CategoryUpdate, admin: Admin, session: DbSession
) -> Category:
    category = await service.get_category(session, slug)
    return await service.update_category(session, admin, category, changes)


@router.delete("/categories/{slug}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_category(slug: SlugPath, admin: Admin, session: DbSession) -> None:
    category = await service.get_category(session, slug)
    await service.delete_category(session, admin, category)


@router.post("/categories/{slug}/restore", response_model=CategoryRead)
async def restore_category(
    slug: SlugPath, admin: Admin, session: DbSession, settings: SettingsDep
) -> Category:
    return await service.restore_category(
        session, admin, slug, retention=settings.soft_delete_retention
    )


@router.get("/tags", response_model=Page[TagRead])
async def list_tags(
    session: DbSession,
    page: PageParams,
    paginator: PaginatorDep,
    request: Request,
    prefix: Annotated[str | None, Query(min_length=1, max_length=50)] = None,
    sort: Literal["name", "popular"] = "name",
) -> Response:
    """Tags by name (autocomplete with `prefix`) or by use; the popular ones are cached."""

    async def read() -> Answer:
        result = await service.list_tags(
            session, page, paginator, prefix=prefix, popular=sort == "popular"
        )
        return json_answer(Page[TagRead].model_validate(result))

    if sort != "popular":
        return (await read()).response()
    return await serve_public(
        runtime_of(request).cache,
        name="tags",
        key=f"{prefix or ''}:{page.limit}:{page.cursor or ''}",
        scopes=(CATALOG, LISTS),
        read=read,
    )
