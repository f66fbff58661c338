"""The trending score of a content item: views and likes, each fading with age."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta

HALF_LIFE = timedelta(hours=48)
LIKE_WEIGHT = 3.0


def decayed_count(moments: Iterable[datetime], now: datetime) -> float:
    """Each event counts 1 when it happens and half as much every `HALF_LIFE` after."""
    return math.fsum(math.pow(0.5, (now - moment) / HALF_LIFE) for moment in moments)


def trending_score(views: Iterable[datetime], likes: Iterable[datetime], now: datetime) -> float:
    return round(decayed_count(views, now) + LIKE_WEIGHT * decayed_count(likes, now), 6)
