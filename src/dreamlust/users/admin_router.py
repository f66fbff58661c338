"""HTTP surface of account administration (ADMIN only)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Response

from dreamlust.auth.dependencies import Admin
from dreamlust.dependencies import DbSession, PageParams, PaginatorDep, SettingsDep
from dreamlust.kit.preconditions import IfMatch, expected_version, set_etag
from dreamlust.kit.schemas import Page, SingleLine
from dreamlust.models import User
from dreamlust.models.enums import UserRole, UserStatus
from dreamlust.request_session import api_router
from dreamlust.users import administration
from dreamlust.users.repository import UserFilter
from dreamlust.users.schemas import AdminUserUpdate, UserAdminView

router = api_router(prefix="/admin/users", tags=["administration"])


@router.get("", response_model=Page[UserAdminView])
async def list_users(
    _admin: Admin,
    session: DbSession,
    page: PageParams,
    paginator: PaginatorDep,
    role: UserRole | None = None,
    status: UserStatus | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100), SingleLine] = None,
    include_deleted: bool = False,
) -> Page[UserAdminView]:
    filters = UserFilter(role=role, status=status, text=q, include_deleted=include_deleted)
    result = await administration.list_users(session, filters, page, paginator)
    return Page[UserAdminView].model_validate(result)


@router.get("/{user_id}", response_model=UserAdminView)
async def read_user(
    user_id: uuid.UUID, _admin: Admin, session: DbSession, response: Response
) -> User:
    user = await administration.get_user(session, user_id)
    set_etag(response, user)
    return user


@router.patch("/{user_id}", response_model=UserAdminView)
async def change_user(
    user_id: uuid.UUID,
    changes: AdminUserUpdate,
    admin: Admin,
    session: DbSession,
    response: Response,
    if_match: IfMatch = None,
) -> User:
    version = expected_version(if_match, changes.version)
    user = await administration.change_user(
        session, admin, user_id, changes, expected_version=version
    )
    set_etag(response, user)
    return user


@router.post("/{user_id}/restore", response_model=UserAdminView)
async def restore_user(
    user_id: uuid.UUID, admin: Admin, session: DbSession, settings: SettingsDep
) -> User:
    return await administration.restore_user(
        session, admin, user_id, retention=settings.soft_delete_retention
    )
