"""Keyset pagination with opaque, tamper-evident cursors.

A list is ordered by one or more sort keys plus a unique tie-breaker (the id), so
every row has a distinct position. The cursor carries the last row's key values,
signed with the server's secret and bound to the list's `scope` (its sort), so a
cursor can be neither forged nor reused for another ordering. No OFFSET, no COUNT.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Any, Generic, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Integer, Select, and_, bindparam, false, literal, or_, tuple_
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from dreamlust.errors import InvalidCursor
from dreamlust.kit.keys import derive_key

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_SIGNATURE_BYTES = 16


@dataclass(frozen=True)
class SortKey:
    """One ordering column and its direction."""

    column: InstrumentedAttribute[Any] | ColumnElement[Any]
    descending: bool = True

    @property
    def name(self) -> str:
        return str(self.column.key)

    @property
    def python_type(self) -> type[Any]:
        return self.column.type.python_type


@dataclass(frozen=True)
class Ordering:
    """The sort keys of a list, ending with a unique tie-breaker."""

    scope: str
    keys: tuple[SortKey, ...]

    def values_of(self, row: Any) -> list[Any]:
        """The row's values for the sort keys (ORM object or row, by attribute name)."""
        return [getattr(row, key.name) for key in self.keys]

    @cached_property
    def order_by(self) -> tuple[ColumnElement[Any], ...]:
        return tuple(key.column.desc() if key.descending else key.column.asc() for key in self.keys)

    def after(self, raw_values: Sequence[Any]) -> ColumnElement[bool]:
        """Rows strictly after the row with these key values, in this ordering.

        Sort keys must be NOT NULL in the rows listed (SQL comparisons with NULL are unknown).
        """
        return self._beyond(
            [
                literal(value, key.column.type)
                for key, value in zip(self.keys, raw_values, strict=True)
            ]
        )

    @cached_property
    def after_bound(self) -> ColumnElement[bool]:
        """`after()` with the key values as bind parameters (`Paginator.bound_params`), for
        statements built once and run with each request's cursor."""
        return self._beyond(
            [
                bindparam(_after_param(index), type_=key.column.type)
                for index, key in enumerate(self.keys)
            ]
        )

    def _beyond(self, values: Sequence[ColumnElement[Any]]) -> ColumnElement[bool]:
        directions = {key.descending for key in self.keys}
        if len(directions) == 1:
            row = tuple_(*(key.column for key in self.keys))
            bound = tuple_(*values)
            return row < bound if directions.pop() else row > bound
        clauses: list[ColumnElement[bool]] = []
        for index, key in enumerate(self.keys):
            equal_before = [k.column == v for k, v in zip(self.keys[:index], values, strict=False)]
            beyond = key.column < values[index] if key.descending else key.column > values[index]
            clauses.append(and_(*equal_before, beyond))
        return or_(false(), *clauses)


def _after_param(index: int) -> str:
    return f"after_{index}"


_LIMIT = bindparam("page_limit", type_=Integer())


class CursorCodec:
    """Encodes key values into signed cursors and back."""

    def __init__(self, secret: bytes) -> None:
        self._secret = derive_key(secret, "cursor")

    def _sign(self, scope: str, payload: bytes) -> bytes:
        message = scope.encode() + b"\x00" + payload
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, ordering: Ordering, values: Sequence[Any]) -> str:
        payload = orjson.dumps([_to_json(value) for value in values])
        token = self._sign(ordering.scope, payload) + payload
        return base64.urlsafe_b64encode(token).rstrip(b"=").decode()

    def decode(self, ordering: Ordering, cursor: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursor("The cursor is malformed.") from exc
        signature, payload = raw[:_SIGNATURE_BYTES], raw[_SIGNATURE_BYTES:]
        if not hmac.compare_digest(signature, self._sign(ordering.scope, payload)):
            raise InvalidCursor("The cursor is not valid for this list.")
        try:
            values = orjson.loads(payload)
            if not isinstance(values, list) or len(values) != len(ordering.keys):
                raise ValueError("wrong number of values")
            return [
                _from_json(value, key.python_type)
                for value, key in zip(values, ordering.keys, strict=True)
            ]
        except (ValueError, TypeError) as exc:
            raise InvalidCursor("The cursor is malformed.") from exc


def _to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    return value


def _from_json(value: Any, python_type: type[Any]) -> Any:
    if value is None:
        return None
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type is Decimal:
        return Decimal(value)
    if python_type is bool:
        return bool(value)
    if python_type is int and isinstance(value, int):
        return value
    if python_type in (float, str) and isinstance(value, python_type | int):
        return python_type(value)
    raise TypeError(f"unexpected cursor value for {python_type.__name__}")


class PageRequest(BaseModel):
    """The page a list request asks for: the query parameters of every list. A list
    with filters of its own adds them in a subclass, its one query model (see
    `kit/direct_call.py`)."""

    model_config = ConfigDict(frozen=True)

    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
    cursor: Annotated[str | None, Field(max_length=1024)] = None


T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class KeysetPage(Generic[T]):
    items: list[T]
    next_cursor: str | None

    def map(self, convert: Callable[[T], U]) -> KeysetPage[U]:
        """The same page with each item converted (rows to the entities they carry)."""
        return KeysetPage([convert(item) for item in self.items], self.next_cursor)


class Paginator:
    """Applies an ordering and a cursor to a SELECT and cuts the result into a page."""

    def __init__(self, codec: CursorCodec) -> None:
        self.codec = codec

    def apply(self, stmt: Select[Any], ordering: Ordering, page: PageRequest) -> Select[Any]:
        if page.cursor:
            stmt = stmt.where(ordering.after(self.codec.decode(ordering, page.cursor)))
        return stmt.order_by(*ordering.order_by).limit(page.limit + 1)

    @staticmethod
    def apply_bound(stmt: Select[Any], ordering: Ordering, *, after: bool) -> Select[Any]:
        """`apply` with the cursor's values and the limit left as bind parameters: a
        statement to build once and run with `bound_params` of each request."""
        if after:
            stmt = stmt.where(ordering.after_bound)
        return stmt.order_by(*ordering.order_by).limit(_LIMIT)

    def bound_params(self, ordering: Ordering, page: PageRequest) -> dict[str, Any]:
        """The values of `apply_bound`'s parameters for this page request."""
        params: dict[str, Any] = {_LIMIT.key: page.limit + 1}
        if page.cursor:
            values = self.codec.decode(ordering, page.cursor)
            params.update({_after_param(index): value for index, value in enumerate(values)})
        return params

    def page(self, rows: Sequence[T], ordering: Ordering, page: PageRequest) -> KeysetPage[T]:
        """Cut the `limit + 1` rows fetched by `apply` into a page and its next cursor."""
        items = list(rows[: page.limit])
        has_more = len(rows) > page.limit
        next_cursor = (
            self.codec.encode(ordering, ordering.values_of(items[-1])) if has_more else None
        )
        return KeysetPage(items=items, next_cursor=next_cursor)
