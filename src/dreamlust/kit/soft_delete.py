"""Soft delete in one place: a session-wide filter that hides deleted rows.

Every SELECT issued through an ORM session gets `deleted_at IS NULL` for each
soft-deletable entity it touches; the criterion travels with the statement into its
relationship and eager loads. Code that must see deleted rows asks for them:
`select(...).execution_options(include_deleted=True)` or
`session.get(..., execution_options={"include_deleted": True})`.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria

from dreamlust.kit.model import SoftDeleteMixin

INCLUDE_DELETED = "include_deleted"


@event.listens_for(Session, "do_orm_execute")
def _hide_deleted_rows(state: ORMExecuteState) -> None:
    if (
        state.is_select
        and not state.is_column_load
        and not state.is_relationship_load
        and not state.execution_options.get(INCLUDE_DELETED, False)
    ):
        state.statement = state.statement.options(
            with_loader_criteria(
                SoftDeleteMixin,
                lambda cls: cls.deleted_at.is_(None),
                include_aliases=True,
            )
        )
