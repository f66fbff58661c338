"""Search over content: free text made into a safe query, matched and ranked by the index.

Whatever a user types becomes a list of terms: runs of letters, digits and combining
marks; everything else (quotes, operators, brackets, emoji, control characters) only
separates them. Every term must match, as a prefix ("sun" finds "sunset"). The terms
reach the database as one bound parameter in the index's own query syntax, where none of
them can be taken for an operator.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Select, Subquery, cast, func, select
from sqlalchemy.dialects import postgresql

from dreamlust.content.search_index import (
    POSTGRESQL_INDEX,
    SQLITE_DOCUMENTS,
    SQLITE_INDEX,
    TEXT_SEARCH_CONFIG,
)
from dreamlust.kit.pagination import Ordering, SortKey

MAX_QUERY_LENGTH = 1000
MAX_TERMS = 16
# Longer words are cut: as prefixes they still find what they would have found.
MAX_TERM_LENGTH = 64
_TERM_CATEGORIES = frozenset("LMN")  # letters, marks, numbers
_TERM_ANCHORS = frozenset("LN")  # a term needs at least one letter or digit

# Ranking weights of the document's parts, title first: ts_rank takes them as
# {D, C, B, A}; bm25 by FTS5 column (title, tags, creator, description).
_POSTGRESQL_WEIGHTS = (0.1, 0.2, 0.4, 1.0)
_SQLITE_WEIGHTS = (10.0, 4.0, 2.0, 1.0)


def _category(char: str) -> str:
    return unicodedata.category(char)[0]


@dataclass(frozen=True)
class SearchQuery:
    """The terms of a search, lower-cased, distinct, in the order typed."""

    terms: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> SearchQuery:
        normalized = unicodedata.normalize("NFC", text)
        spaced = "".join(
            char if _category(char) in _TERM_CATEGORIES else " " for char in normalized
        )
        words = (
            word[:MAX_TERM_LENGTH].lower()
            for word in spaced.split()
            if any(_category(char) in _TERM_ANCHORS for char in word)
        )
        return cls(tuple(dict.fromkeys(words))[:MAX_TERMS])

    @property
    def fingerprint(self) -> str:
        """Identifies the query, so that its cursors are refused by any other query."""
        return hashlib.sha256(" ".join(self.terms).encode()).hexdigest()

    def as_tsquery(self) -> str:
        """PostgreSQL `to_tsquery` text: every term, each as a prefix."""
        return " & ".join(f"{term}:*" for term in self.terms)

    def as_fts5(self) -> str:
        """An FTS5 MATCH expression: every term quoted (never an operator), as a prefix."""
        return " AND ".join(f'"{term}"*' for term in self.terms)


def hits(dialect: str, query: SearchQuery) -> Subquery:
    """The content ids matching `query`, each with its rank (higher is better)."""
    stmt: Select[Any]
    if dialect == "postgresql":
        tsquery = func.to_tsquery(TEXT_SEARCH_CONFIG, query.as_tsquery())
        weights = cast(postgresql.array(_POSTGRESQL_WEIGHTS), postgresql.ARRAY(postgresql.REAL))
        document = POSTGRESQL_INDEX.c.document
        stmt = select(
            POSTGRESQL_INDEX.c.content_id,
            func.ts_rank(weights, document, tsquery, type_=Float).label("rank"),
        ).where(document.bool_op("@@")(tsquery))
    else:
        # bm25 is lower for better matches.
        bm25 = func.bm25(SQLITE_INDEX.c.content_search, *_SQLITE_WEIGHTS, type_=Float)
        stmt = (
            select(SQLITE_DOCUMENTS.c.content_id, (-bm25).label("rank"))
            .join(SQLITE_DOCUMENTS, SQLITE_DOCUMENTS.c.id == SQLITE_INDEX.c.rowid)
            .where(SQLITE_INDEX.c.content_search.match(query.as_fts5()))
        )
    return stmt.subquery("hits")


def ranking(query: SearchQuery, matches: Subquery) -> Ordering:
    """Best match first, then newest; cursors are bound to this query's terms."""
    return Ordering(
        scope=f"content:search:{query.fingerprint}",
        keys=(SortKey(matches.c.rank), SortKey(matches.c.content_id)),
    )
