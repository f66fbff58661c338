"""The content plan: every item decided up front, including how much engagement it gets.

Planning the counts before any row is written lets the creator, tag and content
counters be exact at insert time while the engagement rows themselves are generated
later, a batch at a time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from itertools import accumulate

from dreamlust.models.enums import ContentStatus, ContentType, CreatorStatus
from dreamlust.seeding.catalog import (
    ADJECTIVES,
    DESCRIPTIONS,
    PREMIUM_PRICES,
    SUBJECTS,
    TITLE_PATTERNS,
)
from dreamlust.seeding.context import Row, SeedContext
from dreamlust.seeding.media import blur_placeholder, media_fields, thumbnail_url
from dreamlust.seeding.people import Community, CreatorProfile
from dreamlust.seeding.taxonomy import Taxonomy

_TYPES = tuple(ContentType)
_TYPE_WEIGHTS = (45, 25, 10, 12, 8)


class _Stage(Enum):
    """Where an item is in its life; a scheduled item is a draft with a publish time."""

    PUBLISHED = ContentStatus.PUBLISHED, 84
    DRAFT = ContentStatus.DRAFT, 5
    SCHEDULED = ContentStatus.DRAFT, 4
    IN_REVIEW = ContentStatus.PENDING_REVIEW, 3
    ARCHIVED = ContentStatus.ARCHIVED, 2
    REJECTED = ContentStatus.REJECTED, 2

    @property
    def status(self) -> ContentStatus:
        return self.value[0]

    @property
    def weight(self) -> int:
        return self.value[1]


_STAGES = tuple(_Stage)
_STAGE_WEIGHTS = tuple(stage.weight for stage in _STAGES)
_UNPUBLISHED_STAGES = (_Stage.DRAFT, _Stage.IN_REVIEW, _Stage.REJECTED)
_PUBLISHING_WINDOW_DAYS = 60
_VIEWS_PER_ITEM = 8
_MAX_VIEWS = 2_000


@dataclass(slots=True)
class PlannedContent:
    id: uuid.UUID
    creator: CreatorProfile
    type: ContentType
    status: ContentStatus
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    scheduled_at: datetime | None
    engaged_until: datetime | None
    is_public: bool
    is_nsfw: bool
    age_restricted: bool
    allow_comments: bool
    price: Decimal | None
    category_ids: tuple[uuid.UUID, ...]
    tag_ids: tuple[uuid.UUID, ...]
    views: int = 0
    likes: int = 0
    comments: int = 0
    replies: int = 0
    buyers: int = 0
    title: str = ""  # once its row is made

    @property
    def restricted(self) -> bool:
        """Seen only by signed-in adults."""
        return self.is_nsfw or self.age_restricted

    @property
    def listed(self) -> bool:
        """Visible in lists, so fit for playlists and reports."""
        return (
            self.status is ContentStatus.PUBLISHED
            and self.is_public
            and self.creator.status is CreatorStatus.APPROVED
        )


def plan_content(
    ctx: SeedContext, community: Community, taxonomy: Taxonomy
) -> list[PlannedContent]:
    """Every content item, its engagement counts, and the counters they add up to."""
    creators = community.creators
    weights = [c.popularity**0.6 if c.publishes else 0.05 for c in creators]
    cum_weights = list(accumulate(weights))
    pools = _PoolSizes(audience=len(community.audience), adults=len(community.adults))
    plans: list[PlannedContent] = []
    for _ in range(ctx.sizes.content):
        creator = ctx.pick_weighted(creators, cum_weights, 1)[0]
        plan = _plan_item(ctx, creator, taxonomy)
        _plan_engagement(ctx, plan, pools)
        _count(plan, taxonomy)
        plans.append(plan)
    return plans


@dataclass(frozen=True)
class _PoolSizes:
    audience: int
    adults: int


def _plan_item(ctx: SeedContext, creator: CreatorProfile, taxonomy: Taxonomy) -> PlannedContent:
    rng = ctx.rng
    kind = rng.choices(_TYPES, _TYPE_WEIGHTS)[0]
    if creator.publishes:
        stage = rng.choices(_STAGES, _STAGE_WEIGHTS)[0]
    else:
        stage = rng.choice(_UNPUBLISHED_STAGES)
    published_at = scheduled_at = engaged_until = None
    if stage is _Stage.PUBLISHED:
        published_at = updated_at = ctx.days_ago(_PUBLISHING_WINDOW_DAYS, 0.02)
        created_at = published_at - timedelta(hours=rng.uniform(0.5, 240))
        engaged_until = ctx.now
    elif stage is _Stage.ARCHIVED:
        published_at = ctx.days_ago(_PUBLISHING_WINDOW_DAYS, 20)
        created_at = published_at - timedelta(hours=rng.uniform(0.5, 240))
        engaged_until = updated_at = ctx.between(published_at, ctx.now)
    elif stage is _Stage.SCHEDULED:
        created_at = ctx.days_ago(14, 0.1)
        scheduled_at = ctx.now + timedelta(days=rng.uniform(1, 21))
        updated_at = created_at
    else:
        created_at = ctx.days_ago(45, 0.1)
        updated_at = ctx.between(created_at, ctx.now)

    own_categories = rng.sample(
        creator.category_ids, min(len(creator.category_ids), rng.randint(1, 2))
    )
    if kind is ContentType.VR:
        own_categories.append(taxonomy.category("virtual-reality").id)
    category_ids = tuple(dict.fromkeys(own_categories))
    is_nsfw = taxonomy.category("after-dark").id in category_ids or rng.random() < 0.05
    age_restricted = rng.random() < (0.85 if is_nsfw else 0.03)
    premium_chance = 0.25 if kind is ContentType.VR else 0.12
    is_premium = creator.monetized and rng.random() < premium_chance
    return PlannedContent(
        id=ctx.new_id(),
        creator=creator,
        type=kind,
        status=stage.status,
        created_at=created_at,
        updated_at=updated_at,
        published_at=published_at,
        scheduled_at=scheduled_at,
        engaged_until=engaged_until,
        is_public=rng.random() < 0.97,
        is_nsfw=is_nsfw,
        age_restricted=age_restricted,
        allow_comments=rng.random() < 0.94,
        price=rng.choice(PREMIUM_PRICES) if is_premium else None,
        category_ids=category_ids,
        tag_ids=tuple(rng.sample(taxonomy.tag_ids, rng.randint(2, 6))),
    )


def _plan_engagement(ctx: SeedContext, plan: PlannedContent, pools: _PoolSizes) -> None:
    if plan.published_at is None or plan.engaged_until is None:
        return
    rng = ctx.rng
    pool = pools.adults if plan.restricted else pools.audience
    days_live = (plan.engaged_until - plan.published_at) / timedelta(days=1)
    expected = _VIEWS_PER_ITEM * plan.creator.popularity * rng.lognormvariate(0, 0.8)
    expected *= min(1.0, (days_live + 0.5) / 7) ** 0.5
    if not plan.is_public:
        expected *= 0.2
    plan.views = min(int(expected), _MAX_VIEWS)
    plan.likes = min(round(plan.views * rng.uniform(0.04, 0.3)), pool)
    if plan.allow_comments:
        plan.comments = round(plan.views * rng.uniform(0, 0.08))
        plan.replies = round(plan.comments * rng.uniform(0, 0.9))
    if plan.price is not None:
        plan.buyers = min(pools.adults, round(plan.views * rng.uniform(0.02, 0.15)))


def _count(plan: PlannedContent, taxonomy: Taxonomy) -> None:
    creator = plan.creator
    if plan.status is ContentStatus.PUBLISHED:
        creator.content_count += 1
    creator.total_views += plan.views
    creator.total_likes += plan.likes
    for tag_id in plan.tag_ids:
        taxonomy.count_tag_use(tag_id)


def content_row(ctx: SeedContext, plan: PlannedContent) -> Row:
    """The content row, with zero counters: the engagement generator fills them in."""
    rng = ctx.rng
    media = media_fields(ctx, plan.id, plan.type)
    title = rng.choice(TITLE_PATTERNS[plan.type.value]).format(
        adj=rng.choice(ADJECTIVES), subject=rng.choice(SUBJECTS), number=rng.randint(1, 12)
    )
    return {
        "id": plan.id,
        "creator_id": plan.creator.id,
        "title": title,
        "description": " ".join(rng.sample(DESCRIPTIONS, rng.randint(1, 3))),
        "type": plan.type,
        "status": plan.status,
        **media,
        "thumbnail_url": thumbnail_url(plan.id, media["width"], media["height"]),
        "blur_placeholder": blur_placeholder(ctx),
        "view_count": 0,
        "like_count": 0,
        "comment_count": 0,
        "share_count": 0,
        "trending_24h": 0.0,
        "trending_7d": 0.0,
        "trending_30d": 0.0,
        "is_public": plan.is_public,
        "is_nsfw": plan.is_nsfw,
        "age_restricted": plan.age_restricted,
        "allow_comments": plan.allow_comments,
        "allow_downloads": rng.random() < 0.1,
        "is_premium": plan.price is not None,
        "price": plan.price,
        "currency": plan.creator.currency if plan.price is not None else None,
        "published_at": plan.published_at,
        "scheduled_at": plan.scheduled_at,
        "created_at": plan.created_at,
        "updated_at": plan.updated_at,
        "deleted_at": None,
        "version": 1,
    }
