"""Accounts: find them, suspend, ban, reactivate or restore them."""

from __future__ import annotations

import uuid
from typing import Any

from sqladmin import action
from starlette.requests import Request
from starlette.responses import Response

from dreamlust.admin_site.decisions import (
    Apply,
    Decision,
    DecisionContext,
    DecisionView,
    decisions_by_slug,
)
from dreamlust.admin_site.views.base import mark_deleted
from dreamlust.kit.repository import expect_version
from dreamlust.models import User
from dreamlust.models.enums import UserStatus
from dreamlust.users import administration
from dreamlust.users.schemas import AdminUserUpdate


def _set_status(status: UserStatus) -> Apply:
    async def apply(context: DecisionContext, user_id: uuid.UUID, version: int) -> None:
        await administration.change_user(
            context.session,
            context.admin,
            user_id,
            AdminUserUpdate(status=status, version=version),
            expected_version=version,
        )

    return apply


async def _restore(context: DecisionContext, user_id: uuid.UUID, version: int) -> None:
    expect_version(await administration.get_user(context.session, user_id), version)
    await administration.restore_user(
        context.session, context.admin, user_id, retention=context.settings.soft_delete_retention
    )


SUSPEND = Decision(
    "suspend",
    "Suspend",
    "Suspended accounts cannot sign in and are signed out everywhere at once.",
    _set_status(UserStatus.SUSPENDED),
)
BAN = Decision(
    "ban",
    "Ban",
    "Banned accounts cannot sign in and are signed out everywhere at once.",
    _set_status(UserStatus.BANNED),
)
REACTIVATE = Decision(
    "reactivate",
    "Reactivate",
    "Reactivated accounts may sign in again.",
    _set_status(UserStatus.ACTIVE),
)
RESTORE = Decision(
    "restore",
    "Restore",
    "Restores accounts deleted within the retention period.",
    _restore,
)


class UserView(DecisionView, model=User):
    name = "User"
    name_plural = "Users"
    icon = "fa-solid fa-user"
    category = "People"
    column_list = [
        User.username,
        User.email,
        User.role,
        User.status,
        User.is_creator,
        User.email_verified,
        User.created_at,
        User.last_login_at,
        User.deleted_at,
    ]
    column_details_list = [
        User.id,
        User.username,
        User.email,
        User.display_name,
        User.role,
        User.status,
        User.is_creator,
        User.email_verified,
        User.email_verified_at,
        User.birth_date,
        User.location,
        User.website,
        User.bio,
        User.created_at,
        User.updated_at,
        User.last_login_at,
        User.deleted_at,
        User.version,
    ]
    column_sortable_list = [User.username, User.created_at, User.last_login_at]
    column_searchable_list = [User.username, User.email, User.display_name]
    search_text = (User.username, User.email, User.display_name)
    search_ids = (User.id,)
    column_formatters = {User.deleted_at: mark_deleted}
    column_formatters_detail = {User.deleted_at: mark_deleted}
    decisions = decisions_by_slug(SUSPEND, BAN, REACTIVATE, RESTORE)

    def describe(self, row: Any) -> str:
        return f"{row.username} <{row.email}>: {row.role.value}, {row.status.value}"

    @action("suspend", "Suspend")
    async def suspend(self, request: Request) -> Response:
        return await self.confirm(request, SUSPEND.slug)

    @action("ban", "Ban")
    async def ban(self, request: Request) -> Response:
        return await self.confirm(request, BAN.slug)

    @action("reactivate", "Reactivate")
    async def reactivate(self, request: Request) -> Response:
        return await self.confirm(request, REACTIVATE.slug)

    @action("restore", "Restore")
    async def restore(self, request: Request) -> Response:
        return await self.confirm(request, RESTORE.slug)
