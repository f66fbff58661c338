"""`likely(condition)`: a condition that holds for nearly every row, as SQLite's planner
should know it (`likely(…)` there; the condition as it is elsewhere).

SQLite plans without statistics and takes any range or short IN list for a selective
one: told nothing, it would rather look the rows up through an index on that column and
sort them than read a list's ordering index in order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, TextClause
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class _Likely(FunctionElement[bool]):
    # Untyped on purpose: a Boolean would be sent as `likely(…) = 1`, which no index serves.
    inherit_cache = True


@compiles(_Likely)
def _as_it_is(element: _Likely, compiler: Any, **kw: Any) -> str:
    [condition] = list(element.clauses)
    return str(compiler.process(condition, **kw))


@compiles(_Likely, "sqlite")
def _likely_on_sqlite(element: _Likely, compiler: Any, **kw: Any) -> str:
    [condition] = list(element.clauses)
    return f"likely({compiler.process(condition, **kw)})"


def likely(condition: ColumnElement[bool] | TextClause) -> ColumnElement[bool]:
    return _Likely(condition)
