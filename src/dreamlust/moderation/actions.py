"""What a decision does to its target, in the decision's transaction, through the
services that own the target: content is taken down (REJECTED), a comment deleted, an
account suspended or banned (and signed out). Each effect is audited with its before
and after."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.comments import service as comments
from dreamlust.content import service as content_service
from dreamlust.content.visibility import Viewer
from dreamlust.errors import Conflict, InvalidInput, NotFound
from dreamlust.kit.clock import utcnow
from dreamlust.models import ModerationCase, User
from dreamlust.models.enums import ModerationAction, ReportTargetType, UserStatus
from dreamlust.moderation import audit
from dreamlust.users import administration

# The targets each action can be taken on: an account is suspended or banned for
# itself, its creator profile, or what it wrote or published.
FITS: dict[ModerationAction, frozenset[ReportTargetType]] = {
    ModerationAction.HIDE_CONTENT: frozenset({ReportTargetType.CONTENT}),
    ModerationAction.DELETE_COMMENT: frozenset({ReportTargetType.COMMENT}),
    ModerationAction.SUSPEND_USER: frozenset(ReportTargetType),
    ModerationAction.BAN_USER: frozenset(ReportTargetType),
}


def check_fits(action: ModerationAction, target_type: ReportTargetType) -> None:
    if target_type not in FITS[action]:
        raise InvalidInput(
            f"{action.value} cannot be taken on a {target_type.value} report.",
            loc=("body", "action"),
        )


async def take(
    session: AsyncSession,
    staff: User,
    case: ModerationCase,
    action: ModerationAction,
    owner_id: uuid.UUID | None,
) -> None:
    """Apply `action` (one with an effect) to the case's target, whose account is
    `owner_id`."""
    if action is ModerationAction.HIDE_CONTENT:
        await _hide(session, staff, case)
    elif action is ModerationAction.DELETE_COMMENT:
        await _delete_comment(session, staff, case)
    else:
        if owner_id is None:
            raise Conflict("The account behind the reported target no longer exists.")
        cause = {"case_id": str(case.id)}
        if action is ModerationAction.SUSPEND_USER:
            await administration.set_status(
                session, staff, owner_id, UserStatus.SUSPENDED, cause=cause
            )
        else:
            await administration.set_status(
                session, staff, owner_id, UserStatus.BANNED, cause=cause
            )


async def _hide(session: AsyncSession, staff: User, case: ModerationCase) -> None:
    content = await content_service.for_moderation(session, case.target_id)
    if content is None:
        raise Conflict("The reported content no longer exists.")
    before = content.status
    await content_service.take_down(session, staff, content)
    await audit.record(
        session,
        actor_id=staff.id,
        action="content.hide",
        target_type="content",
        target_id=content.id,
        details={
            "before": {"status": before.value},
            "after": {"status": content.status.value},
            "case_id": str(case.id),
        },
    )


async def _delete_comment(session: AsyncSession, staff: User, case: ModerationCase) -> None:
    viewer = Viewer.of(staff, utcnow().date())
    try:
        placed = await comments.locate(session, case.target_id, viewer)
    except NotFound:
        raise Conflict("The reported comment is already deleted.") from None
    await comments.delete(session, viewer, placed)
    await audit.record(
        session,
        actor_id=staff.id,
        action="comment.delete",
        target_type="comment",
        target_id=placed.comment.id,
        details={
            "before": {"deleted": False},
            "after": {"deleted": True},
            "content_id": str(placed.content.id),
            "case_id": str(case.id),
        },
    )
