"""Request and response models for accounts and profiles."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from dreamlust.kit.clock import utcnow
from dreamlust.kit.schemas import Input, LongText, Name, Schema, Secret, ShortText, Url
from dreamlust.models.enums import UserRole, UserStatus

USERNAME_PATTERN = r"^[A-Za-z0-9_]{3,30}$"
RESERVED_USERNAMES = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "system",
        "support",
        "moderator",
        "staff",
        "me",
        "dreamlust",
        "api",
        "null",
        "undefined",
        "anonymous",
        "help",
        "security",
    }
)


def _not_reserved(username: str) -> str:
    if username.lower() in RESERVED_USERNAMES:
        raise ValueError("this username is reserved")
    return username


Username = Annotated[
    str, StringConstraints(pattern=USERNAME_PATTERN), AfterValidator(_not_reserved)
]
Email = Annotated[EmailStr, StringConstraints(max_length=320)]
MINIMUM_AGE_YEARS = 13


def _years_before(day: date, years: int) -> date:
    """The same date `years` earlier (28 February when that year has no 29 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _plausible_birth_date(born: date) -> date:
    today = utcnow().date()
    if born.year < 1900:
        raise ValueError("must be after 1900")
    if born > _years_before(today, MINIMUM_AGE_YEARS):
        raise ValueError(f"you must be at least {MINIMUM_AGE_YEARS} years old")
    return born


BirthDate = Annotated[date, AfterValidator(_plausible_birth_date)]


class UserPublic(Schema):
    """What anyone may see of an account."""

    id: uuid.UUID
    username: str
    display_name: str | None
    avatar_url: str | None
    bio: str | None
    location: str | None
    website: str | None
    is_creator: bool
    created_at: datetime


class UserPrivate(UserPublic):
    """What the account holder sees of their own account."""

    email: str
    email_verified: bool
    email_verified_at: datetime | None
    birth_date: date | None
    role: UserRole
    status: UserStatus
    last_login_at: datetime | None
    updated_at: datetime
    version: int


class UserAdminView(UserPrivate):
    deleted_at: datetime | None


class ProfileUpdate(Input):
    """PATCH /users/me: only the fields sent change."""

    display_name: Name | None = None
    avatar_url: Url | None = None
    bio: LongText | None = None
    location: ShortText | None = None
    website: Url | None = None
    birth_date: BirthDate | None = None
    version: Annotated[int, Field(strict=True, ge=1)] | None = None


class AccountDeletion(Input):
    password: Secret


class AdminUserUpdate(Input):
    role: UserRole | None = None
    status: UserStatus | None = None
    version: Annotated[int, Field(strict=True, ge=1)] | None = None
