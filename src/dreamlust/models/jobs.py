"""Where the worker's jobs that read a table in order have got to."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from dreamlust.kit.model import Base


class JobCursor(Base):
    """The (created_at, id) of the last row a job has handled."""

    __tablename__ = "job_cursors"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    position_at: Mapped[datetime]
    position_id: Mapped[uuid.UUID]
