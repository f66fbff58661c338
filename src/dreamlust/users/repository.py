"""Every query on users."""

from __future__ import annotations

from sqlalchemy import func, or_

from dreamlust.kit.repository import Repository
from dreamlust.models import User


class UserRepository(Repository[User]):
    model = User

    async def by_login(self, login: str) -> User | None:
        """The live user whose e-mail or username is `login`, ignoring case."""
        key = login.lower()
        return await self.one_or_none(
            self.select().where(
                or_(func.lower(User.email) == key, func.lower(User.username) == key)
            )
        )

    async def by_email(self, email: str) -> User | None:
        return await self.one_or_none(self.select().where(func.lower(User.email) == email.lower()))

    async def by_username(self, username: str) -> User | None:
        return await self.one_or_none(
            self.select().where(func.lower(User.username) == username.lower())
        )
