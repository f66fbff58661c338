"""Creator profiles: approve, reject, verify or suspend them as staff do through the API."""

from __future__ import annotations

import uuid
from typing import Any

from sqladmin import action
from starlette.requests import Request
from starlette.responses import Response

from dreamlust.admin_site.decisions import (
    Apply,
    Decision,
    DecisionContext,
    DecisionView,
    decisions_by_slug,
)
from dreamlust.admin_site.views.base import mark_deleted
from dreamlust.creators import service as creators
from dreamlust.errors import NotFound
from dreamlust.kit.repository import expect_version
from dreamlust.models import Creator


def _decide(decision: str) -> Apply:
    async def apply(context: DecisionContext, creator_id: uuid.UUID, version: int) -> None:
        creator = await creators.for_moderation(context.session, creator_id)
        if creator is None:
            raise NotFound("No such creator.")
        expect_version(creator, version)
        await creators.decide(context.session, context.admin, creator_id, decision, context.reason)

    return apply


APPROVE = Decision(
    "approve", "Approve", "Approved creators are listed and may publish.", _decide("approve"), True
)
REJECT = Decision(
    "reject", "Reject", "Rejects creators whose application is pending.", _decide("reject"), True
)
VERIFY = Decision(
    "verify", "Verify", "Marks approved creators as verified.", _decide("verify"), True
)
SUSPEND = Decision(
    "suspend",
    "Suspend",
    "Suspended creators and their content disappear from every listing.",
    _decide("suspend"),
    True,
)


class CreatorView(DecisionView, model=Creator):
    name = "Creator"
    name_plural = "Creators"
    icon = "fa-solid fa-star"
    category = "People"
    column_list = [
        Creator.handle,
        Creator.display_name,
        Creator.status,
        Creator.is_verified,
        Creator.follower_count,
        Creator.content_count,
        Creator.created_at,
        Creator.deleted_at,
    ]
    column_details_list = [
        Creator.id,
        Creator.user_id,
        Creator.handle,
        Creator.display_name,
        Creator.status,
        Creator.is_verified,
        Creator.verified_at,
        Creator.bio,
        Creator.location,
        Creator.website,
        Creator.follower_count,
        Creator.subscriber_count,
        Creator.content_count,
        Creator.total_views,
        Creator.total_likes,
        Creator.is_monetized,
        Creator.payout_currency,
        Creator.tips_enabled,
        Creator.created_at,
        Creator.updated_at,
        Creator.deleted_at,
        Creator.version,
    ]
    column_sortable_list = [Creator.handle, Creator.created_at, Creator.follower_count]
    column_searchable_list = [Creator.handle, Creator.display_name]
    search_text = (Creator.handle, Creator.display_name)
    search_ids = (Creator.id, Creator.user_id)
    column_formatters = {Creator.deleted_at: mark_deleted}
    column_formatters_detail = {Creator.deleted_at: mark_deleted}
    decisions = decisions_by_slug(APPROVE, REJECT, VERIFY, SUSPEND)

    def describe(self, row: Any) -> str:
        return f"@{row.handle} ({row.display_name}): {row.status.value}"

    @action("approve", "Approve")
    async def approve(self, request: Request) -> Response:
        return await self.confirm(request, APPROVE.slug)

    @action("reject", "Reject")
    async def reject(self, request: Request) -> Response:
        return await self.confirm(request, REJECT.slug)

    @action("verify", "Verify")
    async def verify(self, request: Request) -> Response:
        return await self.confirm(request, VERIFY.slug)

    @action("suspend", "Suspend")
    async def suspend(self, request: Request) -> Response:
        return await self.confirm(request, SUSPEND.slug)
