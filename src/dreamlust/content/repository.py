"""Every query on content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select
from sqlalchemy.orm import joinedload, selectinload

from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.kit.repository import Repository
from dreamlust.models import Content, Creator
from dreamlust.models.enums import ContentStatus

TRENDING = Ordering(
    scope="content:trending",
    keys=(SortKey(Content.trending_score), SortKey(Content.id)),
)
LATEST = Ordering(
    scope="content:latest",
    keys=(SortKey(Content.published_at), SortKey(Content.id)),
)

# A card needs its creator (with the creator's user), categories and tags:
# one joined query plus one IN-query per collection.
CARD_OPTIONS = (
    joinedload(Content.creator).joinedload(Creator.user),
    selectinload(Content.categories),
    selectinload(Content.tags),
)


class ContentRepository(Repository[Content]):
    model = Content

    def published(self, now: datetime) -> Select[Content]:
        """Published, public content whose publish time has passed."""
        return self.select().where(
            Content.status == ContentStatus.PUBLISHED,
            Content.is_public.is_(True),
            Content.published_at <= now,
        )

    def trending(self, now: datetime) -> Select[Content]:
        return self.published(now).options(*CARD_OPTIONS)
