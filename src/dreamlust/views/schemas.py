"""Request and response bodies of views and watch history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from dreamlust.content.schemas import ContentRead
from dreamlust.kit.schemas import Input, Schema

# Longer than any item runs; a larger figure is a broken client, not a long watch.
MAX_WATCH_SECONDS = 86_400


class ViewCreate(Input):
    duration: Annotated[int, Field(strict=True, ge=0, le=MAX_WATCH_SECONDS)] | None = Field(
        default=None, description="Seconds watched."
    )


class ViewRecorded(Schema):
    counted: bool = Field(
        description="False when this viewer was already counted within the dedup window."
    )


class HistoryEntry(Schema):
    content: ContentRead
    watched_at: datetime
