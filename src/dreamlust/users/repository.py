"""Every query on users."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, or_

from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.repository import Repository
from dreamlust.kit.soft_delete import INCLUDE_DELETED
from dreamlust.models import User
from dreamlust.models.enums import UserRole, UserStatus

NEWEST_FIRST = Ordering(
    scope="users:newest",
    keys=(SortKey(User.created_at), SortKey(User.id)),
)


@dataclass(frozen=True)
class UserFilter:
    role: UserRole | None = None
    status: UserStatus | None = None
    text: str | None = None
    include_deleted: bool = False


class UserRepository(Repository[User]):
    model = User

    def search(self, filters: UserFilter) -> Select[User]:
        stmt = self.select()
        if filters.role is not None:
            stmt = stmt.where(User.role == filters.role)
        if filters.status is not None:
            stmt = stmt.where(User.status == filters.status)
        if filters.text:
            needle = filters.text.lower()
            stmt = stmt.where(
                or_(
                    func.lower(User.username).contains(needle, autoescape=True),
                    func.lower(User.email).contains(needle, autoescape=True),
                    func.lower(User.display_name).contains(needle, autoescape=True),
                )
            )
        if filters.include_deleted:
            stmt = stmt.execution_options(**{INCLUDE_DELETED: True})
        return stmt

    async def by_login(self, login: str) -> User | None:
        """The live user whose e-mail or username is `login`, ignoring case."""
        key = login.lower()
        return await self.one_or_none(
            self.select().where(
                or_(func.lower(User.email) == key, func.lower(User.username) == key)
            )
        )

    async def login_taken(self, email: str, username: str) -> bool:
        """Whether any account, deleted ones included, holds this e-mail or username."""
        stmt = (
            self.select()
            .where(
                or_(
                    func.lower(User.email) == email.lower(),
                    func.lower(User.username) == username.lower(),
                )
            )
            .limit(1)
            .execution_options(**{INCLUDE_DELETED: True})
        )
        return await self.one_or_none(stmt) is not None

    async def by_email(self, email: str) -> User | None:
        return await self.one_or_none(self.select().where(func.lower(User.email) == email.lower()))

    async def by_username(self, username: str) -> User | None:
        return await self.one_or_none(
            self.select().where(func.lower(User.username) == username.lower())
        )
