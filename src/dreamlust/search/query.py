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
index table's primary key (content ids are UUIDv7, in creation order). On PostgreSQL
they are found in up to three steps, each run only when the one before fell short:

1. the newest `RECENT_WINDOW` documents are read in order, and the matches among them
   kept: a bounded amount of work, whatever the query and the size of the catalog. A
   word in 4% or more of the documents ends the search here;
2. when enough of those matched to expect the candidates among the newest
   `WIDE_WINDOW` (a word in 0.4% of the documents or more), those are read in order,
   up to the last candidate: still bounded, and still independent of the catalog's size;
3. otherwise the newest matches among all documents, in whichever way the planner finds
   cheaper for the query at hand: walking the primary key backwards and testing each
   document, or taking the GIN index's matches and keeping the newest (cheap for a
   rare word: there are few).

The first two steps are there because the planner cannot be trusted with the third
alone: it multiplies the shares of a query's words as if they were independent, so
words that go together (every word of a two-word tag, "language learning") are expected
to match a few hundred rows where they match thousands. It would then take the GIN index
and read every match: 8,641 documents and 200 ms for "language learning" among 210,000,
five times as many at a million, against 2 ms for the newest 5,000.

Within the candidates, title (A) ranks above tags (B), creator (C) and description (D),
then the newer item first. A query that matches more items than `CANDIDATES` shows the
best of its newest ones, a bias towards recent content a catalog that grows by the day
wants anyway; refining the words finds older items. Both pages of a walk rank the same
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

from sqlalchemy import (
    CTE,
    ColumnElement,
    CompoundSelect,
    Float,
    Select,
    String,
    Subquery,
    bindparam,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
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
# How many of the newest documents a search reads in order before it looks further back
# (see the module's docstring): a word in 4% or more of them fills the candidates there.
RECENT_WINDOW = 5000
# How far back it then reads in order, when the first step found enough matches to
# expect the candidates within it (a word in 0.4% of the documents or more).
WIDE_WINDOW = 50_000
_PROMISING = CANDIDATES * RECENT_WINDOW // WIDE_WINDOW
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
        candidates = _newest_matches(tsquery).cte("candidates").prefix_with("MATERIALIZED")
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


def _matches_among_newest(tsquery: ColumnElement[Any], documents: int, name: str) -> CTE:
    """The newest `CANDIDATES` matches among the newest `documents` documents, read in
    order (found once, when first asked for)."""
    index = POSTGRESQL_INDEX
    newest = (
        select(index.c.content_id, index.c.document)
        .order_by(index.c.content_id.desc())
        .limit(literal(documents, literal_execute=True))
        .subquery(f"{name}_documents")
    )
    return (
        select(newest.c.content_id, newest.c.document)
        .where(newest.c.document.bool_op("@@")(tsquery))
        .order_by(newest.c.content_id.desc())
        .limit(_candidate_limit())
        .cte(name)
        .prefix_with("MATERIALIZED")
    )


def _newest_matches(tsquery: ColumnElement[Any]) -> CompoundSelect[Any]:
    """PostgreSQL: the newest `CANDIDATES` documents matching `tsquery` (see the module's
    docstring): from the newest `RECENT_WINDOW` documents when enough of them match; from
    the newest `WIDE_WINDOW` when enough would match there; else from all documents, in
    whichever way the planner finds cheaper. Only the steps needed run."""
    recent = _matches_among_newest(tsquery, RECENT_WINDOW, "recent_matches")
    wide = _matches_among_newest(tsquery, WIDE_WINDOW, "wide_matches")
    # Each count is taken once, when first needed, and before the part it gates runs.
    in_recent = select(func.count()).select_from(recent).scalar_subquery()
    in_wide = select(func.count()).select_from(wide).scalar_subquery()
    enough = _candidate_limit()
    promising = literal(_PROMISING, literal_execute=True)
    index = POSTGRESQL_INDEX
    anywhere = (
        select(index.c.content_id, index.c.document)
        .where(
            index.c.document.bool_op("@@")(tsquery),
            in_recent < enough,
            or_(in_recent < promising, in_wide < enough),
        )
        .order_by(index.c.content_id.desc())
        .limit(_candidate_limit())
    )
    return union_all(
        select(recent.c.content_id, recent.c.document).where(in_recent == enough),
        select(wide.c.content_id, wide.c.document).where(
            in_recent < enough, in_recent >= promising, in_wide == enough
        ),
        anywhere,
    )


def ranking(query: SearchQuery, matches: Subquery) -> Ordering:
    """Best match first, then newest; cursors are bound to this query's terms."""
    return Ordering(
        scope=f"content:search:{query.fingerprint}",
        keys=(SortKey(matches.c.rank), SortKey(matches.c.content_id)),
    )
