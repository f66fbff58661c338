"""A creator's own statistics: their audience and catalogue, and the engagement of each
of their items, read from database views that count the rows (see
`models.read_models` for why the public pages keep their counters instead)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.creators.schemas import ContentByStatus, ContentEngagement, CreatorStatistics
from dreamlust.creators.statistics_repository import StatisticsRepository
from dreamlust.kit.pagination import KeysetPage, PageRequest, Paginator
from dreamlust.models import Creator


async def of_creator(session: AsyncSession, creator: Creator) -> CreatorStatistics:
    row = await StatisticsRepository(session).of_creator(creator.id)
    return CreatorStatistics(
        follower_count=row.follower_count,
        subscriber_count=row.subscriber_count,
        content=ContentByStatus(
            published=row.published_count,
            scheduled=row.scheduled_count,
            drafts=row.draft_count,
            pending_review=row.pending_review_count,
            rejected=row.rejected_count,
            archived=row.archived_count,
        ),
        view_count=row.view_count,
        watch_seconds=row.watch_seconds,
        like_count=row.like_count,
        comment_count=row.comment_count,
    )


async def content_engagement(
    session: AsyncSession, creator: Creator, request: PageRequest, paginator: Paginator
) -> KeysetPage[ContentEngagement]:
    page = await StatisticsRepository(session).content_page(creator.id, request, paginator)
    return page.map(ContentEngagement.model_validate)
