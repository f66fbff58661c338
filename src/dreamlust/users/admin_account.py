"""`dreamlust create-admin`: bootstrap the first administrator."""

from __future__ import annotations

from dreamlust.auth.passwords import hash_password
from dreamlust.config import Settings
from dreamlust.db import Database
from dreamlust.models import User
from dreamlust.models.enums import UserRole, UserStatus
from dreamlust.users import service
from dreamlust.users.repository import UserRepository


async def create_admin(settings: Settings, *, email: str, username: str, password: str) -> User:
    """Create an ADMIN, or promote (and re-password) the account that has this e-mail."""
    database = Database(settings)
    try:
        async with database.transaction() as session:
            password_hash = await hash_password(password)
            existing = await UserRepository(session).by_email(email)
            if existing is not None:
                existing.role = UserRole.ADMIN
                existing.status = UserStatus.ACTIVE
                existing.password_hash = password_hash
                await session.flush()
                return existing
            return await service.create_user(
                session,
                service.NewUser(
                    email=email,
                    username=username,
                    password_hash=password_hash,
                    role=UserRole.ADMIN,
                ),
            )
    finally:
        await database.dispose()
