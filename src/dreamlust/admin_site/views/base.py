"""What every admin view shares: read-only, deleted rows shown and marked, plain search."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from markupsafe import Markup
from sqladmin import ModelView
from sqlalchemy import ColumnElement, Select, false, or_
from sqlalchemy.orm import InstrumentedAttribute
from starlette.exceptions import HTTPException
from starlette.requests import Request

from dreamlust.kit.soft_delete import INCLUDE_DELETED

MAX_SEARCH_LENGTH = 100
_LIKE_ESCAPE = "\\"


def _include_deleted(stmt: Select[Any]) -> Select[Any]:
    return stmt.execution_options(**{INCLUDE_DELETED: True})


def mark_deleted(model: Any, attribute: str) -> Markup | str:
    """A soft-deleted row's `deleted_at`, as a badge that cannot be missed."""
    deleted_at: datetime | None = getattr(model, attribute)
    if deleted_at is None:
        return ""
    return Markup('<span class="badge bg-red text-red-fg">deleted {}</span>').format(
        deleted_at.isoformat(timespec="seconds")
    )


def escape_like(term: str) -> str:
    return (
        term.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )


class ReadOnlyView(ModelView):
    """Lists and details only: no form writes a row. Changes are decisions (see
    `decisions`), which go through the domain services.

    Soft-deleted rows are listed too, marked, since administrators restore and
    investigate them. The search box matches the `search_text` columns by substring
    (case-insensitive), or, given an id, the `search_ids` columns by equality.
    """

    can_create = False
    can_edit = False
    can_delete = False
    can_export = False
    can_import = False
    can_view_details = True
    page_size = 25
    column_default_sort: ClassVar[Any] = [("created_at", True)]
    search_text: ClassVar[tuple[InstrumentedAttribute[Any], ...]] = ()
    search_ids: ClassVar[tuple[InstrumentedAttribute[Any], ...]] = ()

    def list_query(self, request: Request) -> Select[Any]:
        return _include_deleted(super().list_query(request))

    def details_query(self, request: Request) -> Select[Any]:
        try:
            uuid.UUID(request.path_params["pk"])
        except ValueError:
            raise HTTPException(status_code=404, detail="No such row.") from None
        return _include_deleted(super().details_query(request))

    async def count(self, request: Request, stmt: Select[Any] | None = None) -> int:
        stmt = stmt if stmt is not None else self.count_query(request)
        return await super().count(request, _include_deleted(stmt))

    def search_query(self, stmt: Select[Any], term: str) -> Select[Any]:
        term = term.strip()
        if len(term) > MAX_SEARCH_LENGTH:
            raise HTTPException(
                status_code=400, detail=f"Search for at most {MAX_SEARCH_LENGTH} characters."
            )
        try:
            wanted = uuid.UUID(term)
        except ValueError:
            pattern = f"%{escape_like(term)}%"
            matches: list[ColumnElement[bool]] = [
                column.ilike(pattern, escape=_LIKE_ESCAPE) for column in self.search_text
            ]
        else:
            matches = [column == wanted for column in self.search_ids]
        return stmt.where(or_(false(), *matches))
