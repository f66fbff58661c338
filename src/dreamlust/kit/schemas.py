"""Pydantic building blocks: strict input, safe text types, cursor pages."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, ClassVar, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from dreamlust.kit.types import MONEY_QUANTUM

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_OR_NEWLINE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

T = TypeVar("T")


class Schema(BaseModel):
    """Base of every response model."""

    model_config = ConfigDict(from_attributes=True)


class Input(BaseModel):
    """Base of every request body: unknown fields are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Patch(Input):
    """Base of partial updates: a field left out keeps its value; null clears a field only
    where an empty value makes sense. Fields named in `non_nullable` refuse null (422)."""

    non_nullable: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _null_only_where_allowed(cls, value: object, info: ValidationInfo) -> object:
        if value is None and info.field_name in cls.non_nullable:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value


def _single_line(value: str) -> str:
    if _CONTROL_OR_NEWLINE.search(value):
        raise ValueError("must not contain control characters or line breaks")
    return value


def _multi_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


# Put after a string's constraints: one line, no control characters.
SingleLine = AfterValidator(_single_line)

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SingleLine
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), SingleLine]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=5000), AfterValidator(_multi_line)
]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2048, pattern=r"^https?://\S+$"),
    SingleLine,
]
# Money in cents, as stored: "9.5" is answered as "9.50" at once, not only once read
# back. More than two decimals, zero, negative, NaN and infinity are refused.
Price = Annotated[
    Decimal,
    Field(gt=0, max_digits=12, decimal_places=2, allow_inf_nan=False),
    AfterValidator(lambda price: price.quantize(MONEY_QUANTUM)),
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]

# Secrets (passwords, tokens) are taken exactly as typed: never stripped.
Secret = Annotated[str, StringConstraints(min_length=1, max_length=1024), SingleLine]


class Page(Schema, Generic[T]):
    """A cursor page as clients see it: `{"items": [...], "next_cursor": "…" | null}`.

    Validate a repository's KeysetPage straight into it: `Page[XRead].model_validate(page)`.
    """

    items: list[T]
    next_cursor: str | None
