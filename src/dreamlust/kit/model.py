"""The declarative base and the mixins every table is built from."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Index, MetaData, Uuid, event, func, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, declared_attr, mapped_column

from dreamlust.kit.clock import utcnow
from dreamlust.kit.ids import new_id
from dreamlust.kit.types import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        uuid.UUID: Uuid(),
    }


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id, sort_order=-100)


class CreatedAtMixin:
    created_at: Mapped[datetime] = mapped_column(
        default=utcnow, server_default=func.current_timestamp()
    )


class TimestampMixin(CreatedAtMixin):
    updated_at: Mapped[datetime] = mapped_column(
        default=utcnow, onupdate=utcnow, server_default=func.current_timestamp()
    )


class SoftDeleteMixin:
    """Rows with `deleted_at` set are hidden from every ordinary query (see soft_delete)."""

    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class VersionedMixin:
    """Optimistic locking with SQLAlchemy's own `version_id_col`."""

    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


_DELETED_ROWS = text("deleted_at IS NOT NULL")


@event.listens_for(SoftDeleteMixin, "instrument_class", propagate=True)
def _index_deleted_rows(_mapper: Mapper[Any], cls: type[Any]) -> None:
    """Index `deleted_at` on deleted rows only: the purge finds them quickly, and no
    planner is tempted to answer `deleted_at IS NULL` with it instead of reading a
    list's ordering index of live rows."""
    table = cls.__table__
    Index(
        f"ix_{table.name}_deleted_at",
        table.c.deleted_at,
        postgresql_where=_DELETED_ROWS,
        sqlite_where=_DELETED_ROWS,
    )
