"""Statements slower than `DREAMLUST_SLOW_QUERY_MS`, logged at WARNING.

Only the time is taken per statement (two clock reads); a statement under the threshold
costs nothing more. The line carries the SQL text with its placeholders, never the
parameters: they may hold personal data, tokens or password hashes.
"""

from __future__ import annotations

import logging
from time import perf_counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger("dreamlust.slow_query")

_STARTED = "_dreamlust_started"
_MAX_STATEMENT_CHARS = 4000


def watch_slow_queries(engine: AsyncEngine, threshold_ms: float) -> None:
    threshold_seconds = threshold_ms / 1000

    def started(
        _connection: Any,
        _cursor: Any,
        _statement: str,
        _parameters: Any,
        context: Any,
        _executemany: bool,
    ) -> None:
        if context is not None:
            setattr(context, _STARTED, perf_counter())

    def finished(
        _connection: Any,
        _cursor: Any,
        statement: str,
        _parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        began = getattr(context, _STARTED, None)
        if began is None:
            return
        seconds = perf_counter() - began
        if seconds >= threshold_seconds:
            _log_slow(statement, seconds * 1000, executemany=executemany)

    event.listen(engine.sync_engine, "before_cursor_execute", started)
    event.listen(engine.sync_engine, "after_cursor_execute", finished)


def _log_slow(statement: str, milliseconds: float, *, executemany: bool) -> None:
    text = " ".join(statement.split())
    if len(text) > _MAX_STATEMENT_CHARS:
        text = text[:_MAX_STATEMENT_CHARS] + "…"
    logger.warning(
        "slow statement (%.1f ms): %s",
        milliseconds,
        text,
        extra={
            "fields": {
                "duration_ms": round(milliseconds, 3),
                "statement": text,
                "executemany": executemany,
            }
        },
    )
