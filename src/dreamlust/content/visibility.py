"""Who may see which content, as SQL: applied inside every list, search and detail query.

A viewer sees content that is published, public, past its publish time and not deleted,
from an approved creator. NSFW items follow the viewer's `nsfw_policy` (always hidden from
anonymous viewers and minors); age-restricted items only reach signed-in adults. Owners
and staff also see everything of their own that is not deleted (drafts, private, …).
Premium items are listed, but their media only reach those entitled to them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, false, or_, select, true

from dreamlust.kit.clock import utcnow
from dreamlust.kit.likely import likely
from dreamlust.kit.types import UTCDateTime
from dreamlust.models import Content, Creator, User
from dreamlust.models.enums import ContentStatus, CreatorStatus, UserRole
from dreamlust.users.preferences import NsfwPolicy, Preferences

ADULT_AGE = 18


def _age(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


@dataclass(frozen=True)
class Viewer:
    user: User | None = None
    is_staff: bool = False
    is_adult: bool = False
    nsfw_policy: NsfwPolicy = NsfwPolicy.HIDE

    @classmethod
    def of(cls, user: User | None, today: date) -> Viewer:
        if user is None:
            return ANONYMOUS
        adult = user.birth_date is not None and _age(user.birth_date, today) >= ADULT_AGE
        known_minor = user.birth_date is not None and not adult
        policy = Preferences.of(user.preferences).nsfw_policy
        return cls(
            user=user,
            is_staff=user.role.at_least(UserRole.MODERATOR),
            is_adult=adult,
            nsfw_policy=NsfwPolicy.HIDE if known_minor else policy,
        )

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.user.id if self.user is not None else None

    @property
    def blurs_nsfw(self) -> bool:
        return self.nsfw_policy is NsfwPolicy.BLUR


# Every anonymous viewer: one viewer, made once (a frozen dataclass costs its fields'
# assignments each time it is made).
ANONYMOUS = Viewer()


def approved_creators() -> ColumnElement[bool]:
    """The item's creator is approved: a correlated EXISTS, not `creator_id IN (…)`, which
    SQLite would read creator by creator through the per-creator index and then sort."""
    return (
        select(Creator.id)
        .where(
            Creator.id == Content.creator_id,
            Creator.status == CreatorStatus.APPROVED,
            Creator.deleted_at.is_(None),
        )
        .correlate(Content)  # only the item: a card query joins creators too
        .exists()
    )


def owned_by(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.user_id is None:
        return false()
    return _owned_by_user(viewer.user_id)


def _owned_by_user(user_id: uuid.UUID | BindParameter[uuid.UUID]) -> ColumnElement[bool]:
    return Content.creator_id.in_(select(Creator.id).where(Creator.user_id == user_id))


# "Now" as the moment a statement runs: a statement built once and kept can still ask
# whether an item's publish time has passed.
AT_EXECUTION: BindParameter[datetime] = bindparam("now", callable_=utcnow, type_=UTCDateTime())
Moment = datetime | BindParameter[datetime]


def listed(viewer: Viewer, now: Moment) -> ColumnElement[bool]:
    """What discovery (lists, feeds, trending, search) shows this viewer."""
    conditions = [
        Content.status == ContentStatus.PUBLISHED,
        Content.is_public.is_(True),
        # Told nothing, SQLite would read the most viewed content through the index of
        # the newest and sort it: the publish time of published content has nearly
        # always passed.
        likely(Content.published_at <= now),
        approved_creators(),
    ]
    if viewer.nsfw_policy is NsfwPolicy.HIDE:
        conditions.append(Content.is_nsfw.is_(False))
    if not viewer.is_adult:
        conditions.append(Content.age_restricted.is_(False))
    return and_(*conditions)


def viewable(viewer: Viewer, now: Moment) -> ColumnElement[bool]:
    """What this viewer may open: what is listed, plus their own, plus anything for staff."""
    if viewer.is_staff:
        return true()
    return or_(listed(viewer, now), owned_by(viewer))


# The signed-in viewer's id as a statement runs (see `viewable_to_bound_viewer`).
VIEWER_ID: BindParameter[uuid.UUID] = bindparam("viewer_id", type_=User.id.type)


def viewable_to_bound_viewer(shape: Viewer, now: Moment) -> ColumnElement[bool]:
    """What a signed-in viewer of this shape (staff, adult, NSFW policy) may open, their
    id bound as `VIEWER_ID` when the statement runs: a statement built with it once serves
    every signed-in viewer of the shape."""
    if shape.is_staff:
        return true()
    return or_(listed(shape, now), _owned_by_user(VIEWER_ID))


def is_blurred(content: Content, viewer: Viewer) -> bool:
    return content.is_nsfw and viewer.blurs_nsfw and not viewer.is_staff
