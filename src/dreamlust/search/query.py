"""A search: free text made into a safe query, and its matches ranked among a bounded
set of candidates.

Whatever a user types becomes a list of terms: runs of letters, digits and combining
marks; everything else (quotes, operators, brackets, emoji, control characters) only
separates them. Every term must match, as a prefix ("sun" finds "sunset"). The terms
reach the database as one value in the index's own query syntax, where none of them can
be taken for an operator.

Why candidates: a rank (`ts_rank`, bm25) is a function of the document and the query,
so no index can return rows in its order (the GIN index answers "which rows match", not
"which match best"). Ranking every match before cutting the first page costs in
proportion to the number of matches, and a common prefix ("a", "making") matches most
of the catalog. So a search ranks its `CANDIDATES` newest matches: the newest by the
index table's primary key (content ids are UUIDv7, in creation order). PostgreSQL finds
them in whichever way is cheaper for the query at hand:

- a common prefix: walking the primary key backwards and testing each document, which
  stops after about `CANDIDATES / share of rows matching` rows (fewer, the more match);
- a rare word: the GIN index's few matches, of which the newest are kept.

The work of a common word is bounded by the candidates, not by its matches. The planner
takes the index when it expects few matches; it expects too few for words that go
together (every word of a two-word tag), which then cost their matches (8,555 for
"retro games" in the bench data: about 30 ms instead of 2). Ranking is as before within
the candidates: title (A) above tags (B) above creator (C) above description (D),
then the newer item. A query that matches more items than `CANDIDATES` shows the best
of its newest ones, a bias towards recent content a catalog that grows by the day wants
anyway; refining the words finds older items. Both pages of a walk rank the same
candidate set, so keyset pagination over (rank, id) stays consistent.

The alternatives: RUM (an index that returns rows in rank order) needs an extension that
managed PostgreSQL services rarely offer, and a fallback path equal to this one; tiers of
per-part documents still rank every title match of a common word.

The right plan depends on the query's words, so on PostgreSQL they are written into the
SQL (as a quoted literal; a term holds only letters, marks and digits) rather than bound:
a prepared statement's generic plan, made without them, assumes a few matches and would
collect every match of a common prefix through the GIN index. Each distinct search is
then a statement of its own, planned for its words; the price is a prepare per search
that the connection's statement cache does not hold. The candidates are materialized,
so they are found once, before anything is joined to them, and the rest of the plan
never depends on how many rows the planner expects of them. SQLite (development and
tests) keeps the same rules with FTS5: bm25 by column, among the newest `CANDIDATES`
matches.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, Select, String, Subquery, bindparam, cast, func, literal, select
from sqlalchemy.dialects import postgresql

from dreamlust.kit.pagination import Ordering, SortKey
from dreamlust.search.index import (
    POSTGRESQL_INDEX,
    SQLITE_DOCUMENTS,
    SQLITE_INDEX,
    TEXT_SEARCH_CONFIG,
)

MAX_QUERY_LENGTH = 1000
MAX_TERMS = 16
# Longer words are cut: as prefixes they still find what they would have found.
MAX_TERM_LENGTH = 64
# How many of a query's newest matches are ranked: ten pages of twenty. The first page
# costs about CANDIDATES / (share of documents matching) index rows read, so this is
# the knob between depth of results and cost of a common word.
CANDIDATES = 200
# The query's terms in the index's syntax (`SearchQuery.params`): statements are built
# once. PostgreSQL gets them written into the SQL (see the module's docstring).
TERMS = bindparam("terms", type_=String)
_TERMS_IN_SQL = bindparam("terms", type_=String, literal_execute=True)
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

    def params(self, dialect: str) -> dict[str, str]:
        """The value of `TERMS` in a statement of `hits`."""
        return {TERMS.key: self.as_tsquery() if dialect == "postgresql" else self.as_fts5()}


def _candidate_limit() -> Any:
    # A constant in the SQL, so that the planner knows how few rows are wanted.
    return literal(CANDIDATES, literal_execute=True)


def hits(dialect: str) -> Subquery:
    """The newest `CANDIDATES` content ids matching the query bound to `TERMS`, each with
    its rank (higher is better)."""
    stmt: Select[Any]
    if dialect == "postgresql":
        tsquery = func.to_tsquery(TEXT_SEARCH_CONFIG, _TERMS_IN_SQL)
        document = POSTGRESQL_INDEX.c.document
        candidates = (
            select(POSTGRESQL_INDEX.c.content_id, document)
            .where(document.bool_op("@@")(tsquery))
            .order_by(POSTGRESQL_INDEX.c.content_id.desc())
            .limit(_candidate_limit())
            .cte("candidates")
            .prefix_with("MATERIALIZED")
        )
        weights = cast(postgresql.array(_POSTGRESQL_WEIGHTS), postgresql.ARRAY(postgresql.REAL))
        rank = func.ts_rank(weights, candidates.c.document, tsquery, type_=Float).label("rank")
        # In rank order already: the content of the best candidates is looked up until
        # a page is full, not that of every candidate.
        stmt = select(candidates.c.content_id, rank).order_by(
            rank.desc(), candidates.c.content_id.desc()
        )
    else:
        # bm25 is lower for better matches; FTS5 computes it only inside its own query.
        bm25 = func.bm25(SQLITE_INDEX.c.content_search, *_SQLITE_WEIGHTS, type_=Float)
        stmt = (
            select(SQLITE_DOCUMENTS.c.content_id, (-bm25).label("rank"))
            .join(SQLITE_DOCUMENTS, SQLITE_DOCUMENTS.c.id == SQLITE_INDEX.c.rowid)
            .where(SQLITE_INDEX.c.content_search.match(TERMS))
            .order_by(SQLITE_DOCUMENTS.c.content_id.desc())
            .limit(_candidate_limit())
        )
    return stmt.subquery("hits")


def ranking(query: SearchQuery, matches: Subquery) -> Ordering:
    """Best match first, then newest; cursors are bound to this query's terms."""
    return Ordering(
        scope=f"content:search:{query.fingerprint}",
        keys=(SortKey(matches.c.rank), SortKey(matches.c.content_id)),
    )
