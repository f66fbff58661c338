"""Trending: engagement that fades with age, over a 24-hour, 7-day or 30-day window.

Each view counts 1 and each like 3 when it happens; the weight halves every quarter of
the window (6 h, 42 h, 7.5 days) and drops to nothing when the event leaves the window.
Unlike all-time view counts, a week-old item with many old views falls below a new item
with moderate engagement today. The scores are stored on the content row, one indexed
column per window, and refreshed by the worker in set-based SQL, so a trending page is
an index scan, never an aggregation over the views table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Float, func, literal, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.functions import FunctionElement

from dreamlust.cache import tracking as cache_tracking
from dreamlust.kit.types import UTCDateTime
from dreamlust.models import Content, Like, View

VIEW_WEIGHT = 1.0
LIKE_WEIGHT = 3.0
_HALF_LIVES_PER_WINDOW = 4


class Window(StrEnum):
    DAY = "24h"
    WEEK = "7d"
    MONTH = "30d"

    @property
    def length(self) -> timedelta:
        return {Window.DAY: timedelta(days=1), Window.WEEK: timedelta(days=7)}.get(
            self, timedelta(days=30)
        )

    @property
    def half_life(self) -> timedelta:
        return self.length / _HALF_LIVES_PER_WINDOW

    @property
    def column(self) -> ColumnElement[float]:
        """The content column holding this window's score."""
        return _COLUMNS[self].expression

    @property
    def column_name(self) -> str:
        return _COLUMNS[self].key


_COLUMNS: dict[Window, InstrumentedAttribute[float]] = {
    Window.DAY: Content.trending_24h,
    Window.WEEK: Content.trending_7d,
    Window.MONTH: Content.trending_30d,
}


def score(
    views: Iterable[datetime], likes: Iterable[datetime], now: datetime, window: Window
) -> float:
    """The score of one item from the moments of its views and likes (the same formula
    the worker runs in SQL; used where rows are made in Python, as by the seeder)."""

    def faded(moments: Iterable[datetime], weight: float) -> float:
        return math.fsum(
            weight * math.pow(0.5, (now - moment) / window.half_life)
            for moment in moments
            if now - window.length < moment <= now
        )

    return faded(views, VIEW_WEIGHT) + faded(likes, LIKE_WEIGHT)


class _SecondsBetween(FunctionElement[float]):
    """`later - earlier` in seconds, for two timestamps, on either database."""

    type = Float()
    inherit_cache = True


@compiles(_SecondsBetween, "postgresql")
def _seconds_postgresql(element: _SecondsBetween, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)}))"
    )


@compiles(_SecondsBetween, "sqlite")
def _seconds_sqlite(element: _SecondsBetween, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"((julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)})) * 86400.0)"
    )


def _faded(weight: float, created_at: Any, now: ColumnElement[datetime], window: Window) -> Any:
    age = _SecondsBetween(now, created_at)
    return literal(weight) * func.power(0.5, age / window.half_life.total_seconds())


async def refresh(session: AsyncSession, now: datetime, window: Window) -> None:
    """Recompute one window's scores from the views and likes inside it."""
    at = literal(now, UTCDateTime())
    since = now - window.length
    events = union_all(
        select(
            View.content_id, _faded(VIEW_WEIGHT, View.created_at, at, window).label("weight")
        ).where(View.created_at > since, View.created_at <= now),
        select(
            Like.content_id, _faded(LIKE_WEIGHT, Like.created_at, at, window).label("weight")
        ).where(Like.created_at > since, Like.created_at <= now),
    ).subquery()
    scores = (
        select(events.c.content_id, func.sum(events.c.weight).label("score"))
        .group_by(events.c.content_id)
        .subquery()
    )
    column = window.column
    await session.execute(
        update(Content).where(column != 0).values({column: 0.0}),
        execution_options={"synchronize_session": False},
    )
    await session.execute(
        update(Content).where(Content.id == scores.c.content_id).values({column: scores.c.score}),
        execution_options={"synchronize_session": False},
    )


async def refresh_all(session: AsyncSession, now: datetime) -> None:
    for window in Window:
        await refresh(session, now, window)
    cache_tracking.lists_changed(session)
