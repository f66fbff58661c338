"""What administrators may do to accounts; every change is written to the audit log."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.auth.sessions import end_access_tokens, revoke_all_sessions
from dreamlust.errors import Conflict, Forbidden, NotFound
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.kit.repository import expect_version, restore
from dreamlust.models import User
from dreamlust.models.enums import UserStatus
from dreamlust.moderation import audit
from dreamlust.users.repository import NEWEST_FIRST, UserFilter, UserRepository
from dreamlust.users.schemas import AdminUserUpdate

_SIGNED_OUT_STATUSES = frozenset({UserStatus.SUSPENDED, UserStatus.BANNED})
_VERBS = {UserStatus.SUSPENDED: "suspend", UserStatus.BANNED: "ban"}


async def list_users(
    session: AsyncSession, filters: UserFilter, page: PageRequest, paginator: Paginator
) -> KeysetPage[User]:
    repository = UserRepository(session)
    return await repository.page(repository.search(filters), NEWEST_FIRST, page, paginator)


async def get_user(session: AsyncSession, user_id: uuid.UUID) -> User:
    user = await UserRepository(session).get(user_id, include_deleted=True)
    if user is None:
        raise NotFound("No such user.")
    return user


async def change_user(
    session: AsyncSession,
    admin: User,
    user_id: uuid.UUID,
    changes: AdminUserUpdate,
    *,
    expected_version: int,
) -> User:
    """Change role and/or status. Suspending or banning signs the user out everywhere;
    a new role ends the access tokens, whose role claim it makes untrue (the user's
    devices refresh into new ones)."""
    user = await get_user(session, user_id)
    if user.id == admin.id:
        raise Forbidden("Administrators cannot change their own role or status.")
    expect_version(user, expected_version)
    before = {"role": user.role.value, "status": user.status.value}
    values = changes.model_dump(exclude_unset=True, exclude_none=True, exclude={"version"})
    await UserRepository(session).update(user, values)
    if user.status in _SIGNED_OUT_STATUSES:
        await revoke_all_sessions(session, user.id)
    elif user.role.value != before["role"]:
        await end_access_tokens(session, user.id)
    after = {"role": user.role.value, "status": user.status.value}
    await audit.record(
        session,
        actor_id=admin.id,
        action="user.update",
        target_type="user",
        target_id=user.id,
        details={"before": before, "after": after},
    )
    return user


async def set_status(
    session: AsyncSession,
    staff: User,
    user_id: uuid.UUID,
    status: Literal[UserStatus.SUSPENDED, UserStatus.BANNED],
    *,
    cause: dict[str, Any],
) -> User:
    """Suspend or ban an account on a moderation decision (`cause` says which, for the
    audit log): only accounts of a lower role than the staff member's, never one already
    in that status or banned; signs the account out everywhere."""
    user = await get_user(session, user_id)
    if not staff.role.rank > user.role.rank:
        raise Forbidden(
            f"A {staff.role.value} cannot {_VERBS[status]} a {user.role.value} account."
        )
    if user.status in (status, UserStatus.BANNED):
        raise Conflict(f"The account is already {user.status.value}.")
    before = user.status
    await UserRepository(session).update(user, {"status": status})
    await revoke_all_sessions(session, user.id)
    await audit.record(
        session,
        actor_id=staff.id,
        action=f"user.{_VERBS[status]}",
        target_type="user",
        target_id=user.id,
        details={"before": {"status": before.value}, "after": {"status": status.value}, **cause},
    )
    return user


async def restore_user(
    session: AsyncSession, admin: User, user_id: uuid.UUID, *, retention: timedelta
) -> User:
    user = await get_user(session, user_id)
    await restore(session, user, retention=retention, what="The account")
    await audit.record(
        session, actor_id=admin.id, action="user.restore", target_type="user", target_id=user.id
    )
    return user
