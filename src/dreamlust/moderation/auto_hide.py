"""Optional auto-hide (`moderation_auto_hide_score`): published content whose open
reports reach the score leaves every listing at once (PUBLISHED → PENDING_REVIEW), in
the transaction of the report that tipped it, audited as the system's act. Dismissing
the reports puts it back as it was, with its first publish time and announced to nobody
again; staff may also review it as any content pending review."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.content import service as content_service
from dreamlust.kit.clock import utcnow
from dreamlust.models import Content, ModerationCase, User
from dreamlust.models.enums import ContentStatus
from dreamlust.moderation import audit, track_record


async def hide_when_over(
    session: AsyncSession, case: ModerationCase, content: Content, threshold: float
) -> None:
    """Hold the case's content once the case's score reaches `threshold` (once a case)."""
    score = track_record.as_float(case.score)
    if case.auto_hidden_at is not None or score < threshold:
        return
    if not await content_service.hold_for_review(session, content):
        return
    case.auto_hidden_at = utcnow()
    await session.flush()
    await audit.record(
        session,
        actor_id=None,
        action="content.auto_hide",
        target_type="content",
        target_id=content.id,
        details={
            "before": {"status": ContentStatus.PUBLISHED.value},
            "after": {"status": content.status.value},
            "case_id": str(case.id),
            "score": score,
            "threshold": threshold,
        },
    )


async def undo(session: AsyncSession, staff: User, case: ModerationCase) -> None:
    """The case's reports were dismissed: content it held goes back, unless staff have
    reviewed it since."""
    if case.auto_hidden_at is None:
        return
    content = await content_service.for_moderation(session, case.target_id)
    if content is None or not await content_service.release_hold(session, content):
        return
    await audit.record(
        session,
        actor_id=staff.id,
        action="content.release",
        target_type="content",
        target_id=content.id,
        details={
            "before": {"status": ContentStatus.PENDING_REVIEW.value},
            "after": {"status": content.status.value},
            "case_id": str(case.id),
        },
    )
