"""Pydantic building blocks: strict input, safe text types, cursor pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from dreamlust.kit.types import MONEY_QUANTUM

# The characters text may not hold, as a character class both Python's `re` and JSON
# Schema (ECMA-262) read alike: C0 and C1 controls; multi-line text keeps tab and newline.
_CONTROLS_CLASS = r"\u0000-\u0008\u000b-\u001f\u007f-\u009f"
_CONTROLS_OR_NEWLINES_CLASS = r"\u0000-\u001f\u007f-\u009f"

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


@dataclass(frozen=True)
class _TextWithout:
    """Refuses text holding any of `characters` (a character class) with `message`, and
    says so in the JSON schema as a `pattern`, so that clients and contract tests know
    the rule before they meet it."""

    characters: str
    message: str

    @property
    def pattern(self) -> str:
        return f"^[^{self.characters}]*$"

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        forbidden = re.compile(f"[{self.characters}]")

        def check(value: str) -> str:
            if forbidden.search(value):
                raise ValueError(self.message)
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        if "pattern" in json_schema:
            raise TypeError("text with a pattern of its own states its characters there")
        json_schema["pattern"] = self.pattern
        return json_schema


# Put after a string's constraints: one line, no control characters.
SingleLine = _TextWithout(
    _CONTROLS_OR_NEWLINES_CLASS, "must not contain control characters or line breaks"
)
MultiLine = _TextWithout(_CONTROLS_CLASS, "must not contain control characters")

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), SingleLine
]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), SingleLine]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000), MultiLine]
# No white space, no control characters.
Url = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=2048,
        pattern=rf"^https?://[^\s{_CONTROLS_OR_NEWLINES_CLASS}]+$",
    ),
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
