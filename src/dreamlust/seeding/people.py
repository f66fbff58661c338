"""Accounts and creator profiles: the staff, the creators and their audience."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import cached_property
from typing import Any

from dreamlust.models.enums import CreatorStatus, UserRole, UserStatus
from dreamlust.seeding.catalog import (
    ADJECTIVES,
    ADMIN_EMAIL,
    ADMIN_USERNAME,
    CREATOR_BIOS,
    CURRENCIES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    IMAGE_BASE,
    LAST_NAMES,
    LOCATIONS,
    MODERATOR_EMAIL,
    MODERATOR_USERNAME,
    STUDIO_WORDS,
    SUBJECTS,
    SUBSCRIPTION_PRICES,
    USER_BIOS,
)
from dreamlust.seeding.context import Row, SeedContext, fake_viewer_hash
from dreamlust.seeding.taxonomy import Taxonomy
from dreamlust.users.preferences import (
    Delivery,
    NotificationSettings,
    NsfwPolicy,
    Preferences,
    Theme,
    VideoQuality,
)

_NAME_CHARS = re.compile(r"[^a-z0-9_]+")
_MAX_NAME_LENGTH = 24
_VIEWER_STATUSES = (UserStatus.ACTIVE, UserStatus.INACTIVE, UserStatus.SUSPENDED, UserStatus.BANNED)
_VIEWER_STATUS_WEIGHTS = (92, 3, 3, 2)
_NSFW_POLICIES = (NsfwPolicy.HIDE, NsfwPolicy.BLUR, NsfwPolicy.SHOW)
_NSFW_POLICY_WEIGHTS = (45, 30, 25)
_LANGUAGES = ("en", "en", "en", "de", "es", "fr", "pt-BR", "ja")
_QUALITIES = (VideoQuality.AUTO, VideoQuality.AUTO, VideoQuality.Q1080, VideoQuality.Q720)


class _AgeGroup(Enum):
    MINOR = "minor"
    UNKNOWN = "unknown"
    ADULT = "adult"


@dataclass(slots=True)
class Person:
    id: uuid.UUID
    username: str
    display_name: str
    role: UserRole
    created_at: datetime
    adult: bool
    active: bool
    viewer_hash: str


@dataclass(slots=True)
class CreatorProfile:
    id: uuid.UUID
    user: Person
    handle: str
    display_name: str
    status: CreatorStatus
    created_at: datetime
    popularity: float
    category_ids: tuple[uuid.UUID, ...]
    currency: str
    prices: tuple[Decimal, Decimal, Decimal] | None
    tips_enabled: bool
    row: Row
    followers: int = 0
    subscribers: int = 0
    content_count: int = 0
    total_views: int = 0
    total_likes: int = 0

    @property
    def publishes(self) -> bool:
        """Approved creators publish; suspended ones keep what they published before."""
        return self.status in (CreatorStatus.APPROVED, CreatorStatus.SUSPENDED)

    @property
    def monetized(self) -> bool:
        return self.prices is not None

    def finished_row(self) -> Row:
        """The profile row with its counters, once every counted row has been planned."""
        return {
            **self.row,
            "follower_count": self.followers,
            "subscriber_count": self.subscribers,
            "content_count": self.content_count,
            "total_views": self.total_views,
            "total_likes": self.total_likes,
        }


@dataclass
class Community:
    admin: Person
    moderator: Person
    people: list[Person]
    user_rows: list[Row]
    creators: list[CreatorProfile]

    @cached_property
    def audience(self) -> list[Person]:
        """Accounts that can still watch, like and comment."""
        return [person for person in self.people if person.active]

    @cached_property
    def adults(self) -> list[Person]:
        """Active accounts known to be 18 or older: the only ones that see restricted content."""
        return [person for person in self.people if person.active and person.adult]


class _UniqueNames:
    """Usernames and handles, unique without regard to case."""

    def __init__(self, ctx: SeedContext, reserved: tuple[str, ...] = ()) -> None:
        self._ctx = ctx
        self._taken = set(reserved)

    def claim(self, wanted: str) -> str:
        base = _NAME_CHARS.sub("", wanted.lower())[:_MAX_NAME_LENGTH] or "user"
        name = base
        while name in self._taken:
            name = f"{base}{self._ctx.rng.randint(2, 9999)}"
        self._taken.add(name)
        return name


def build_community(ctx: SeedContext, taxonomy: Taxonomy) -> Community:
    usernames = _UniqueNames(ctx, reserved=(ADMIN_USERNAME, MODERATOR_USERNAME))
    handles = _UniqueNames(ctx)
    people: list[Person] = []
    rows: list[Row] = []

    def add(person: Person, row: Row) -> Person:
        people.append(person)
        rows.append(row)
        return person

    admin = add(*_staff_account(ctx, ADMIN_USERNAME, ADMIN_EMAIL, UserRole.ADMIN, "Admin"))
    moderator = add(
        *_staff_account(ctx, MODERATOR_USERNAME, MODERATOR_EMAIL, UserRole.MODERATOR, "Moderator")
    )
    creators = [
        _creator(ctx, add(*_creator_account(ctx, usernames)), status, taxonomy, handles)
        for status in _creator_statuses(ctx)
    ]
    for age_group in _viewer_age_groups(ctx):
        add(*_viewer_account(ctx, usernames, age_group))
    return Community(admin, moderator, people, rows, creators)


def _staff_account(
    ctx: SeedContext, username: str, email: str, role: UserRole, title: str
) -> tuple[Person, Row]:
    created_at = ctx.now - timedelta(days=480)
    return _account(
        ctx,
        username=username,
        email=email,
        display_name=f"Dreamlust {title}",
        created_at=created_at,
        birth_date=_birth_date(ctx, ctx.rng.uniform(25, 50)),
        role=role,
        status=UserStatus.ACTIVE,
        verified=True,
        nsfw_policy=NsfwPolicy.BLUR,
    )


def _creator_account(ctx: SeedContext, names: _UniqueNames) -> tuple[Person, Row]:
    first, last = ctx.rng.choice(FIRST_NAMES), ctx.rng.choice(LAST_NAMES)
    username = names.claim(_username_pattern(ctx, first, last))
    return _account(
        ctx,
        username=username,
        email=f"{username}@{ctx.rng.choice(EMAIL_DOMAINS)}",
        display_name=f"{first} {last}",
        created_at=ctx.days_ago(420, 130),
        birth_date=_birth_date(ctx, ctx.rng.uniform(19, 55)),
        role=UserRole.CREATOR,
        status=UserStatus.ACTIVE,
        verified=True,
        nsfw_policy=ctx.rng.choices(_NSFW_POLICIES, _NSFW_POLICY_WEIGHTS)[0],
        is_creator=True,
    )


def _viewer_age_groups(ctx: SeedContext) -> list[_AgeGroup]:
    """Mostly adults, a few minors and a few accounts without a birth date."""
    total = ctx.sizes.viewers
    groups = [_AgeGroup.MINOR] * max(3, round(total * 0.06))
    groups += [_AgeGroup.UNKNOWN] * max(2, round(total * 0.08))
    groups += [_AgeGroup.ADULT] * (total - len(groups))
    ctx.rng.shuffle(groups)
    return groups


def _viewer_account(
    ctx: SeedContext, names: _UniqueNames, age_group: _AgeGroup
) -> tuple[Person, Row]:
    first, last = ctx.rng.choice(FIRST_NAMES), ctx.rng.choice(LAST_NAMES)
    username = names.claim(_username_pattern(ctx, first, last))
    birth_date: date | None = None
    if age_group is _AgeGroup.MINOR:
        birth_date = _birth_date(ctx, ctx.rng.uniform(13.2, 16.8))
    elif age_group is _AgeGroup.ADULT:
        birth_date = _birth_date(ctx, ctx.rng.uniform(19, 70))
    adult = age_group is _AgeGroup.ADULT
    return _account(
        ctx,
        username=username,
        email=f"{username}@{ctx.rng.choice(EMAIL_DOMAINS)}",
        display_name=f"{first} {last}",
        created_at=ctx.days_ago(400, 1),
        birth_date=birth_date,
        role=UserRole.USER,
        status=ctx.rng.choices(_VIEWER_STATUSES, _VIEWER_STATUS_WEIGHTS)[0],
        verified=ctx.chance(0.85),
        nsfw_policy=(
            ctx.rng.choices(_NSFW_POLICIES, _NSFW_POLICY_WEIGHTS)[0] if adult else NsfwPolicy.HIDE
        ),
    )


def _account(
    ctx: SeedContext,
    *,
    username: str,
    email: str,
    display_name: str,
    created_at: datetime,
    birth_date: date | None,
    role: UserRole,
    status: UserStatus,
    verified: bool,
    nsfw_policy: NsfwPolicy,
    is_creator: bool = False,
) -> tuple[Person, Row]:
    rng = ctx.rng
    user_id = ctx.new_id()
    adult = birth_date is not None and birth_date <= _birth_date(ctx, 18.5)
    last_login = ctx.between(max(created_at, ctx.now - timedelta(days=30)), ctx.now)
    verified_at = created_at + timedelta(minutes=rng.uniform(1, 600)) if verified else None
    person = Person(
        id=user_id,
        username=username,
        display_name=display_name,
        role=role,
        created_at=created_at,
        adult=adult,
        active=status is UserStatus.ACTIVE,
        viewer_hash=fake_viewer_hash(f"user:{user_id}"),
    )
    row: Row = {
        "id": user_id,
        "email": email,
        "username": username,
        "password_hash": ctx.password_hash,
        "email_verified": verified,
        "email_verified_at": verified_at,
        "display_name": display_name,
        "avatar_url": f"{IMAGE_BASE}/{username}/256/256" if rng.random() < 0.7 else None,
        "bio": rng.choice(USER_BIOS) if rng.random() < 0.4 else None,
        "location": rng.choice(LOCATIONS) if rng.random() < 0.5 else None,
        "website": None,
        "birth_date": birth_date,
        "role": role,
        "status": status,
        "is_creator": is_creator,
        "preferences": _preferences(ctx, nsfw_policy),
        "last_login_at": last_login,
        "created_at": created_at,
        "updated_at": last_login,
        "deleted_at": None,
        "version": 1,
    }
    return person, row


def _preferences(ctx: SeedContext, nsfw_policy: NsfwPolicy) -> dict[str, Any]:
    rng = ctx.rng
    notifications = NotificationSettings(
        email=rng.random() < 0.6,
        comments=Delivery.IN_APP if rng.random() < 0.9 else Delivery.OFF,
        likes=Delivery.IN_APP if rng.random() < 0.5 else Delivery.OFF,
        new_uploads=Delivery.BOTH if rng.random() < 0.3 else Delivery.IN_APP,
    )
    return Preferences(
        theme=rng.choice(tuple(Theme)),
        language=rng.choice(_LANGUAGES),
        nsfw_policy=nsfw_policy,
        autoplay=rng.random() < 0.75,
        default_quality=rng.choice(_QUALITIES),
        hide_history=rng.random() < 0.05,
        notifications=notifications,
    ).model_dump(mode="json")


def _creator_statuses(ctx: SeedContext) -> list[CreatorStatus]:
    total = ctx.sizes.creators
    pending = max(1, round(total * 0.10))
    suspended = max(1, round(total * 0.05))
    rejected = max(1, round(total * 0.04))
    statuses = (
        [CreatorStatus.PENDING] * pending
        + [CreatorStatus.SUSPENDED] * suspended
        + [CreatorStatus.REJECTED] * rejected
    )
    statuses += [CreatorStatus.APPROVED] * (total - len(statuses))
    ctx.rng.shuffle(statuses)
    return statuses


def _creator(
    ctx: SeedContext,
    person: Person,
    status: CreatorStatus,
    taxonomy: Taxonomy,
    handles: _UniqueNames,
) -> CreatorProfile:
    rng = ctx.rng
    creator_id = ctx.new_id()
    display_name = _creator_display_name(ctx, person.display_name)
    handle = handles.claim(display_name)
    categories = rng.sample(
        [c for c in taxonomy.active_categories if not c.spec.mature], rng.randint(1, 3)
    )
    if rng.random() < 0.15:
        categories.append(taxonomy.category("after-dark"))
    created_at = person.created_at + timedelta(hours=rng.uniform(1, 72))
    approved_at = created_at + timedelta(days=rng.uniform(0.5, 4))
    verified = status is CreatorStatus.APPROVED and rng.random() < 0.4
    monetized = status is CreatorStatus.APPROVED and rng.random() < 0.7
    prices = rng.choice(SUBSCRIPTION_PRICES) if monetized else None
    currency = rng.choice(CURRENCIES)
    tips_enabled = rng.random() < 0.85
    topic = categories[0].spec.name.lower()
    row: Row = {
        "id": creator_id,
        "user_id": person.id,
        "display_name": display_name,
        "handle": handle,
        "avatar_url": f"{IMAGE_BASE}/{handle}-avatar/400/400",
        "banner_url": f"{IMAGE_BASE}/{handle}-banner/1500/500" if rng.random() < 0.8 else None,
        "bio": rng.choice(CREATOR_BIOS).format(topic=topic),
        "location": rng.choice(LOCATIONS) if rng.random() < 0.8 else None,
        "website": f"https://{handle}.example.com" if rng.random() < 0.4 else None,
        "status": status,
        "is_verified": verified,
        "verified_at": approved_at + timedelta(days=rng.uniform(1, 60)) if verified else None,
        "is_monetized": prices is not None,
        "payout_currency": currency,
        "tips_enabled": tips_enabled,
        "created_at": created_at,
        "updated_at": approved_at,
        "deleted_at": None,
        "version": 1,
    }
    return CreatorProfile(
        id=creator_id,
        user=person,
        handle=handle,
        display_name=display_name,
        status=status,
        created_at=created_at,
        popularity=rng.lognormvariate(0, 0.9),
        category_ids=tuple(category.id for category in categories),
        currency=currency,
        prices=prices,
        tips_enabled=tips_enabled,
        row=row,
    )


def _username_pattern(ctx: SeedContext, first: str, last: str) -> str:
    pattern = ctx.rng.randrange(4)
    if pattern == 0:
        return f"{first}{last}"
    if pattern == 1:
        return f"{first}_{last[:3]}"
    if pattern == 2:
        return f"{first}{ctx.rng.randint(1, 99)}"
    return f"{last}_{first}"


def _creator_display_name(ctx: SeedContext, own_name: str) -> str:
    rng = ctx.rng
    style = rng.random()
    if style < 0.4:
        return own_name
    if style < 0.7:
        return f"{own_name.split()[0]} {rng.choice(STUDIO_WORDS)}"
    return f"{rng.choice(ADJECTIVES)} {rng.choice(SUBJECTS)}"


def _birth_date(ctx: SeedContext, age_years: float) -> date:
    return (ctx.now - timedelta(days=age_years * 365.25)).date()
