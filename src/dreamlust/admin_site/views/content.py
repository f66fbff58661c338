"""Content items: review those pending review, as staff do through the API."""

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
from dreamlust.content import service as content_service
from dreamlust.errors import NotFound
from dreamlust.kit.repository import expect_version
from dreamlust.models import Content


def _review(decision: str) -> Apply:
    async def apply(context: DecisionContext, content_id: uuid.UUID, version: int) -> None:
        content = await content_service.for_moderation(context.session, content_id)
        if content is None or content.is_deleted:
            raise NotFound("No such content.")
        expect_version(content, version)
        await content_service.review(
            context.session, context.admin, content, decision, context.reason
        )

    return apply


APPROVE = Decision(
    "approve",
    "Approve",
    "Publishes content pending review; its creator is notified.",
    _review("approve"),
    True,
)
REJECT = Decision(
    "reject",
    "Reject",
    "Rejects content pending review; its creator is notified, with the reason.",
    _review("reject"),
    True,
)


def _creator_handle(model: Any, _attribute: str) -> str:
    return f"@{model.creator.handle}"


class ContentView(DecisionView, model=Content):
    name = "Content"
    name_plural = "Content"
    icon = "fa-solid fa-film"
    category = "Catalogue"
    column_list = [
        Content.title,
        Content.creator,
        Content.type,
        Content.status,
        Content.is_public,
        Content.is_nsfw,
        Content.is_premium,
        Content.view_count,
        Content.published_at,
        Content.created_at,
        Content.deleted_at,
    ]
    column_details_list = [
        Content.id,
        Content.title,
        Content.creator,
        Content.description,
        Content.type,
        Content.status,
        Content.is_public,
        Content.is_nsfw,
        Content.age_restricted,
        Content.allow_comments,
        Content.is_premium,
        Content.price,
        Content.currency,
        Content.premium_tier,
        Content.media_type,
        Content.duration,
        Content.file_size,
        Content.view_count,
        Content.like_count,
        Content.comment_count,
        Content.published_at,
        Content.scheduled_at,
        Content.created_at,
        Content.updated_at,
        Content.deleted_at,
        Content.version,
    ]
    column_sortable_list = [Content.title, Content.created_at, Content.view_count]
    column_searchable_list = [Content.title]
    search_text = (Content.title,)
    search_ids = (Content.id, Content.creator_id)
    column_formatters = {Content.deleted_at: mark_deleted, Content.creator: _creator_handle}
    column_formatters_detail = {
        Content.deleted_at: mark_deleted,
        Content.creator: _creator_handle,
    }
    decisions = decisions_by_slug(APPROVE, REJECT)

    def describe(self, row: Any) -> str:
        return f"{row.title}: {row.type.value}, {row.status.value}"

    @action("approve", "Approve")
    async def approve(self, request: Request) -> Response:
        return await self.confirm(request, APPROVE.slug)

    @action("reject", "Reject")
    async def reject(self, request: Request) -> Response:
        return await self.confirm(request, REJECT.slug)
