"""Request and response models of the auth endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from dreamlust.kit.schemas import Input, Schema, Secret, SingleLine
from dreamlust.users.schemas import BirthDate, Email, Username

OpaqueToken = Annotated[
    str, StringConstraints(min_length=16, max_length=256, pattern=r"^[A-Za-z0-9_-]+$")
]


class Registration(Input):
    email: Email
    username: Username
    password: Secret
    birth_date: BirthDate | None = None


class Credentials(Input):
    login: Annotated[str, StringConstraints(min_length=1, max_length=320), SingleLine]
    password: Secret


class TokenPair(Schema):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a scheme name)
    expires_in: int


class RefreshRequest(Input):
    refresh_token: OpaqueToken


class EmailTokenRequest(Input):
    token: OpaqueToken


class PasswordResetRequest(Input):
    email: Email


class PasswordResetConfirmation(Input):
    token: OpaqueToken
    new_password: Secret


class Accepted(Schema):
    status: Literal["accepted"] = "accepted"
