"""What every generator shares: the seeded randomness, the id factory, the clock and sizes."""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from dreamlust.kit.clock import utcnow
from dreamlust.seeding.ids import IdFactory

Row = dict[str, Any]
T = TypeVar("T")

_NON_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class SeedSizes:
    """How many of the main entities to generate; everything else follows from these."""

    creators: int
    viewers: int
    content: int
    reports: int

    @classmethod
    def for_scale(cls, scale: int) -> SeedSizes:
        return cls(creators=20 * scale, viewers=30 * scale, content=300 * scale, reports=10 * scale)


@dataclass
class SeedContext:
    """The state shared by the generators. `now` is the start of the current UTC day,
    so that every generated moment is in the past of the real clock."""

    rng: random.Random
    new_id: IdFactory
    now: datetime
    sizes: SeedSizes
    password_hash: str

    @classmethod
    def create(cls, *, scale: int, random_seed: int, password_hash: str) -> SeedContext:
        today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(
            rng=random.Random(random_seed),
            new_id=IdFactory(random_seed),
            now=today,
            sizes=SeedSizes.for_scale(scale),
            password_hash=password_hash,
        )

    def days_ago(self, most: float, least: float = 0.0) -> datetime:
        """A moment between `most` and `least` days before now."""
        return self.now - timedelta(days=self.rng.uniform(least, most))

    def between(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rng.random()

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick_weighted(self, items: Sequence[T], cum_weights: Sequence[float], k: int) -> list[T]:
        """Up to `k` distinct items, the heavier ones more likely (weights given cumulated)."""
        wanted = min(k, len(items))
        chosen: dict[int, None] = {}
        indices = range(len(items))
        while len(chosen) < wanted:
            chosen[self.rng.choices(indices, cum_weights=cum_weights)[0]] = None
        return [items[index] for index in chosen]


def slugify(text: str) -> str:
    return _NON_SLUG.sub("-", text.lower()).strip("-")


def fake_viewer_hash(fake_id: str) -> str:
    """A viewer fingerprint as the service stores it: a hash, never a raw address."""
    return hashlib.sha256(f"demo-viewer:{fake_id}".encode()).hexdigest()
