"""Cost as data grows: dreamlust's read endpoints at ~210k and at ~1M content, in one run.

    .venv/bin/python bench/growth.py         # or: make bench-growth

1. makes sure PostgreSQL has the `dreamlust_bench` database of bench/run.py, exactly as
   run.py does (seeded once at `--scale 700`: 210,000 content; trending scores refreshed;
   VACUUM ANALYZE);
2. makes sure it has `dreamlust_bench_1m` (once; `--rebuild` makes it anew): a copy of
   `dreamlust_bench` (CREATE DATABASE … TEMPLATE) whose content is grown to 5x in SQL,
   each item copied 4 times with new ids and its timestamps moved within the same span,
   with its tags, categories and search document; the stored counters are brought in
   line and checked with `dreamlust recount --check`; then VACUUM ANALYZE;
3. for each of the two databases in turn, starts dreamlust alone (`dreamlust serve
   --workers 2`, the settings and pool of run.py), samples detail ids and search terms
   from that database, warms up and runs wrk on each endpoint;
4. prints, per endpoint and database, req/s, p50, p99 and the CPU per request of the
   server and of PostgreSQL, and the 1M/210k latency ratios against the issue's target
   (within 1.5x); an endpoint over it is worth an EXPLAIN (ANALYZE, BUFFERS) of the
   statement bench/sql_capture.py shows.

Everything listens on 127.0.0.1 only; the server is stopped at the end, on Ctrl-C, on
`kill` and on errors. Both databases are kept for the next run. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

import run as bench  # bench/ is the script's directory, hence on sys.path

GROWN_DB = "dreamlust_bench_1m"
COPIES = 4  # each item and its copies: 5x the content
TARGET_GROWTH = 1.5  # the bound on latency at 1M over latency at 210k
BUILT_MARK = "grown by bench/growth.py"  # the grown database's comment, once complete

# The tables whose rows are copied with their content. The copies go in in the order of
# their ids, as rows are written when items are made and as the seeder wrote them (a
# search walks `content_search` by id and reads its heap in that order). The tables'
# secondary indexes are dropped while the rows go in and built again afterwards (much
# faster than inserting 840k rows into a GIN index and a dozen b-trees).
GROWN_TABLES = ("content", "content_tags", "content_categories", "content_search")
SECONDARY_INDEXES_SQL = """
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i
WHERE i.indrelid = ANY($1::regclass[])
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
ORDER BY 1
"""

# Every copy of an item: its new id (a UUIDv7 of its new created_at, as dreamlust's ids
# are) and how far its timestamps move. The moment that places an item in the lists (its
# publication, else its creation) is rotated by a random step within the span of its
# status's moments, so copies spread over the same weeks as the originals and 'latest'
# interleaves old and new. `jitter` varies the copied trending scores a little.
COPIES_SQL = """
CREATE TEMP TABLE copies AS
WITH anchored AS (
  SELECT id, created_at, status,
         extract(epoch FROM coalesce(published_at, created_at))::float8 AS anchor
  FROM content
), bounds AS (
  SELECT status, min(anchor) AS low, max(anchor) - min(anchor) AS span
  FROM anchored GROUP BY status
), drawn AS (
  SELECT a.id AS source_id, a.created_at, a.anchor - b.low AS position, b.span,
         random() * b.span AS step, 0.9 + 0.2 * random() AS jitter,
         md5(random()::text) AS noise
  FROM anchored a JOIN bounds b USING (status) CROSS JOIN generate_series(1, $1) AS copy
), shifted AS (
  SELECT source_id, created_at, jitter, noise,
         make_interval(secs => CASE WHEN position + step > span THEN step - span
                                    ELSE step END) AS shift
  FROM drawn
)
SELECT source_id, shift, jitter,
       (lpad(to_hex((extract(epoch FROM created_at + shift) * 1000)::bigint), 12, '0')
        || '7' || substr(noise, 1, 3) || '8' || substr(noise, 4, 15))::uuid AS id
FROM shifted
"""

# The copied content row's columns that differ from the original's; every other column
# is copied as it is. Copies have no views, likes, comments or shares, so their counters
# are zero (`dreamlust recount --check` checks them against the rows).
CONTENT_OVERRIDES = {
    "id": "k.id",
    "created_at": "c.created_at + k.shift",
    "published_at": "c.published_at + k.shift",
    "updated_at": "least(c.updated_at + k.shift, now())",
    # least() skips NULLs: a live item's copy must stay live.
    "deleted_at": (
        "CASE WHEN c.deleted_at IS NOT NULL THEN least(c.deleted_at + k.shift, now()) END"
    ),
    "view_count": "0",
    "like_count": "0",
    "comment_count": "0",
    "share_count": "0",
    "trending_24h": "c.trending_24h * k.jitter",
    "trending_7d": "c.trending_7d * k.jitter",
    "trending_30d": "c.trending_30d * k.jitter",
}
CONTENT_COLUMNS_SQL = """
SELECT column_name FROM information_schema.columns
WHERE table_schema = 'public' AND table_name = 'content' ORDER BY ordinal_position
"""
COPY_ROWS_SQL = {
    "content_tags": """
        INSERT INTO content_tags (content_id, tag_id)
        SELECT k.id, t.tag_id FROM copies k JOIN content_tags t ON t.content_id = k.source_id
        ORDER BY k.id, t.tag_id
    """,
    "content_categories": """
        INSERT INTO content_categories (content_id, category_id)
        SELECT k.id, t.category_id FROM copies k
        JOIN content_categories t ON t.content_id = k.source_id ORDER BY k.id, t.category_id
    """,
    "content_search": """
        INSERT INTO content_search (content_id, document)
        SELECT k.id, t.document FROM copies k JOIN content_search t ON t.content_id = k.source_id
        ORDER BY k.id
    """,
}
# The counters the copies move (counters/definitions.py): a creator's live published
# items and a tag's live items. The copies add no follows, views, likes or comments.
COUNTERS_SQL = {
    "creators.content_count": """
        UPDATE creators SET content_count = counted.n
        FROM (SELECT creator_id, count(*) AS n FROM content
              WHERE status = 'PUBLISHED' AND deleted_at IS NULL GROUP BY creator_id) AS counted
        WHERE creators.id = counted.creator_id AND creators.content_count <> counted.n
    """,
    "tags.usage_count": """
        UPDATE tags SET usage_count = counted.n
        FROM (SELECT t.tag_id, count(*) AS n FROM content_tags t
              JOIN content c ON c.id = t.content_id
              WHERE c.deleted_at IS NULL GROUP BY t.tag_id) AS counted
        WHERE tags.id = counted.tag_id AND tags.usage_count <> counted.n
    """,
}
VACUUMED_TABLES = (*GROWN_TABLES, "creators", "categories", "tags")


@dataclass(frozen=True)
class DataSet:
    label: str  # "210k", "1M"
    db: str
    counts: dict[str, int]


# --- 1. The grown database ---------------------------------------------------------------


def size_label(content: int) -> str:
    if content >= 1_000_000:
        return f"{content / 1_000_000:.3g}M"
    return f"{content / 1000:.0f}k"


async def built_mark(args: argparse.Namespace) -> str | None:
    """The grown database's comment (None: no such database), '' while incomplete."""
    admin = await asyncpg.connect(bench.database_url(args, "postgres"))
    try:
        row = await admin.fetchrow(
            "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database "
            "WHERE datname = $1",
            args.grown_db,
        )
        return None if row is None else row[0]
    finally:
        await admin.close()


async def drop_grown(args: argparse.Namespace) -> None:
    admin = await asyncpg.connect(bench.database_url(args, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{args.grown_db}" WITH (FORCE)')
    finally:
        await admin.close()


async def copy_database(args: argparse.Namespace, attempts: int = 12) -> None:
    """CREATE DATABASE … TEMPLATE: nobody may be connected to the source meanwhile, so a
    session of someone else's delays it (5 s between attempts)."""
    admin = await asyncpg.connect(bench.database_url(args, "postgres"))
    create = f'CREATE DATABASE "{args.grown_db}" TEMPLATE "{args.db}" STRATEGY FILE_COPY'
    try:
        for attempt in range(1, attempts + 1):
            try:
                await admin.execute(create)
                return
            except asyncpg.ObjectInUseError:
                users = await admin.fetch(
                    "SELECT pid, application_name, state FROM pg_stat_activity WHERE datname = $1",
                    args.db,
                )
                if attempt == attempts:
                    raise SystemExit(
                        f"{args.db} stays in use ({[tuple(u) for u in users]}): "
                        "cannot copy it; run again when it is free"
                    ) from None
                bench.log(f"{args.db} is in use by {len(users)} session(s); waiting")
                await asyncio.sleep(5)
    finally:
        await admin.close()


async def timed(conn: asyncpg.Connection, what: str, sql: str, *params: object) -> None:
    started = time.monotonic()
    status = await conn.execute(sql, *params)
    bench.log(f"  {what}: {status} ({time.monotonic() - started:.0f} s)")


async def copy_content(conn: asyncpg.Connection) -> None:
    columns = [row[0] for row in await conn.fetch(CONTENT_COLUMNS_SQL)]
    values = ", ".join(CONTENT_OVERRIDES.get(name, f"c.{name}") for name in columns)
    insert = (
        f"INSERT INTO content ({', '.join(columns)}) "  # noqa: S608 (the table's own columns)
        f"SELECT {values} FROM copies k JOIN content c ON c.id = k.source_id ORDER BY k.id"
    )
    await timed(conn, "content", insert)


async def grow(url: str) -> None:
    """Copy every item COPIES times with its tags, categories and search document."""
    conn = await asyncpg.connect(url, command_timeout=3600)
    try:
        # The rows come from consistent ones: no foreign-key triggers per row.
        await conn.execute("SET session_replication_role = replica")
        await conn.execute("SET maintenance_work_mem = '512MB'")
        indexes = await conn.fetch(SECONDARY_INDEXES_SQL, list(GROWN_TABLES))
        for index in indexes:
            await conn.execute(f"DROP INDEX {index['name']}")
        await timed(conn, "copies planned", COPIES_SQL, COPIES)
        await conn.execute("ANALYZE copies")
        await copy_content(conn)
        for table, sql in COPY_ROWS_SQL.items():
            await timed(conn, table, sql)
        started = time.monotonic()
        for index in indexes:
            await conn.execute(index["definition"])
        elapsed = time.monotonic() - started
        bench.log(f"  {len(indexes)} indexes built again ({elapsed:.0f} s)")
        for counter, sql in COUNTERS_SQL.items():
            await timed(conn, counter, sql)
    finally:
        await conn.close()


async def vacuum_analyze(url: str) -> None:
    conn = await asyncpg.connect(url, command_timeout=3600)
    try:
        for table in VACUUMED_TABLES:
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()


def check_counters(env: dict[str, str]) -> None:
    """`dreamlust recount --check`; on drift, `dreamlust recount` repairs and it is checked
    once more."""
    check = [str(bench.DREAMLUST), "recount", "--check"]
    try:
        bench.run_cli(check, env, timeout=1800)
    except subprocess.CalledProcessError as error:
        bench.log(f"counters drift ({error}): repairing with dreamlust recount")
        bench.run_cli([str(bench.DREAMLUST), "recount"], env, timeout=1800)
        bench.run_cli(check, env, timeout=1800)


def build_grown(args: argparse.Namespace, secret_key: str) -> float:
    """Make the grown database from the bench database; the seconds it took."""
    started = time.monotonic()
    url = bench.database_url(args, args.grown_db)
    bench.log(f"building {args.grown_db}: {args.db} copied, its content grown {COPIES + 1}x")
    asyncio.run(drop_grown(args))
    asyncio.run(copy_database(args))
    bench.log(f"  copied {args.db} ({time.monotonic() - started:.0f} s)")
    asyncio.run(grow(url))
    grown_args = argparse.Namespace(**{**vars(args), "db": args.grown_db})
    check_counters(bench.dreamlust_env(grown_args, secret_key))
    bench.log("  VACUUM ANALYZE")
    asyncio.run(vacuum_analyze(url))
    elapsed = time.monotonic() - started
    asyncio.run(mark_built(args, f"{BUILT_MARK} in {elapsed:.0f} s"))
    bench.log(f"{args.grown_db} built in {elapsed:.0f} s ({elapsed / 60:.1f} min)")
    return elapsed


async def mark_built(args: argparse.Namespace, mark: str) -> None:
    admin = await asyncpg.connect(bench.database_url(args, "postgres"))
    try:
        await admin.execute(f"COMMENT ON DATABASE \"{args.grown_db}\" IS '{mark}'")
    finally:
        await admin.close()


def ensure_grown(args: argparse.Namespace, secret_key: str) -> str:
    """Build the grown database unless a complete one is kept; how it came to be."""
    mark = asyncio.run(built_mark(args))
    if mark and mark.startswith(BUILT_MARK) and not (args.rebuild or args.reseed):
        bench.log(f"{args.grown_db} already built: kept ({mark})")
        url = bench.database_url(args, args.grown_db)
        if missing := asyncio.run(bench.missing_indexes(url)):
            bench.log(
                f"WARNING: {args.grown_db} lacks indexes the models declare "
                f"({', '.join(missing)}): re-run with --rebuild"
            )
        return f"kept, {mark}"
    if mark is not None:
        reason = "--rebuild" if args.rebuild or args.reseed else "an incomplete build"
        bench.log(f"{args.grown_db}: {reason}: dropping it")
    elapsed = build_grown(args, secret_key)
    return f"built in {elapsed:.0f} s"


# --- 2. Load -----------------------------------------------------------------------------


@contextmanager
def serving(args: argparse.Namespace, env: dict[str, str], logs: Path) -> Iterator[bench.Server]:
    server = bench.Server(f"dreamlust-{args.db}", args.port)
    try:
        bench.start_dreamlust(server, args, env, logs)
        bench.wait_ready(server, "/healthz")
        bench.log(f"dreamlust on {server.url} ({args.workers} workers), database {args.db}")
        yield server
    finally:
        bench.stop(server)
        bench.log("server stopped")


def check_answers(endpoints: Sequence[bench.Endpoint], server: bench.Server) -> None:
    for endpoint in endpoints:
        status, body = bench.get(server.url + endpoint.path, headers=endpoint.headers)
        if status != 200:
            tail = server.log.read_text()[-3000:] if server.log else ""
            raise SystemExit(f"{endpoint.name} answered {status}: {body[:300]!r}\n{tail}")


def measure(
    args: argparse.Namespace, data_set: DataSet, secret_key: str, work: Path
) -> tuple[list[bench.Endpoint], dict[str, bench.Result]]:
    """Warm up, then `args.rounds` wrk runs per endpoint against dreamlust on this data set."""
    db_args = argparse.Namespace(**{**vars(args), "db": data_set.db})
    env = bench.dreamlust_env(db_args, secret_key)
    scripts_dir = work / data_set.label
    scripts_dir.mkdir()
    measurements = bench.Measurements()
    with serving(db_args, env, work) as server:
        endpoints, scripts = bench.endpoints_to_measure(db_args, scripts_dir, secret_key)
        check_answers(endpoints, server)
        bench.log(f"warming up ({args.warmup} s per endpoint)")
        for endpoint in endpoints:
            bench.load(args, server, endpoint, scripts[endpoint.name], args.warmup)
        for round_ in range(1, args.rounds + 1):
            for endpoint in endpoints:
                result = bench.load(args, server, endpoint, scripts[endpoint.name], args.duration)
                measurements.add(endpoint.name, data_set.label, result)
                log_result(round_, endpoint.name, data_set.label, result)
    medians = {e.name: measurements.median(e.name, data_set.label) for e in endpoints}
    return endpoints, {name: result for name, result in medians.items() if result}


def log_result(round_: int, endpoint: str, label: str, result: bench.Result) -> None:
    bench.log(
        f"round {round_} {endpoint:<22} {label:<5} {result.requests_per_second:>7.0f} req/s  "
        f"p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms  errors {result.errors}  "
        f"CPU/req: app {result.cpu_us_per_request:.0f} us, db "
        f"{result.db_cpu_us_per_request:.0f} us; other load {result.other_cores:.2f} cores"
    )


# --- 3. Report ---------------------------------------------------------------------------


def growth(small: bench.Result, large: bench.Result) -> tuple[float, float, bool]:
    """p50 and p99 at the larger size over the smaller; within the target when both are."""
    p50 = large.p50_ms / small.p50_ms
    p99 = large.p99_ms / small.p99_ms
    return p50, p99, p50 <= TARGET_GROWTH and p99 <= TARGET_GROWTH


def row(name: str, label: str, result: bench.Result, verdict: str = "") -> str:
    line = (
        f"{name:<22} {label:<6} {result.requests_per_second:>7.0f} {result.p50_ms:>8.2f} "
        f"{result.p99_ms:>8.2f} {result.errors:>6} {result.db_cpu_us_per_request:>7.0f}us "
        f"{result.cpu_us_per_request:>7.0f}us {result.other_cores:>6.2f} {verdict}"
    )
    return line.rstrip()


def table(
    endpoints: Sequence[bench.Endpoint],
    sets: Sequence[DataSet],
    results: Sequence[dict[str, bench.Result]],
) -> str:
    header = (
        f"{'endpoint':<22} {'data':<6} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} "
        f"{'db CPU':>9} {'app CPU':>9} {'other':>6} "
        f"{'p50 x':>6} {'p99 x':>6}  within {TARGET_GROWTH}x"
    )
    lines = [header, "-" * len(header)]
    for endpoint in endpoints:
        small, large = (r.get(endpoint.name) for r in results)
        if small is not None:
            lines.append(row(endpoint.name, sets[0].label, small))
        if large is not None:
            verdict = ""
            if small is not None:
                p50, p99, within = growth(small, large)
                verdict = f"{p50:>5.2f}x {p99:>5.2f}x  {'yes' if within else 'NO'}"
            lines.append(row(endpoint.name, sets[1].label, large, verdict))
    return "\n".join(lines)


def describe(data_set: DataSet) -> str:
    counts = data_set.counts
    return (
        f"{data_set.label} = {data_set.db}: {counts.get('content', 0):,} content, "
        f"{counts.get('creators', 0):,} creators, {counts.get('views', 0):,} views, "
        f"{counts.get('likes', 0):,} likes"
    )


def report(
    args: argparse.Namespace,
    endpoints: Sequence[bench.Endpoint],
    sets: Sequence[DataSet],
    results: Sequence[dict[str, bench.Result]],
    history: str,
) -> None:
    pool = f"{args.db_pool_size} connections" if args.db_pool_size else "default pools"
    print()
    print(
        f"dreamlust as data grows, uncached; {describe(sets[0])}\n"
        f"  {describe(sets[1])} ({history})\n"
        f"{args.workers} uvicorn workers, {pool} per worker; wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s --latency; median of {args.rounds} round(s)\n"
        "db CPU / app CPU: CPU time per request of PostgreSQL / of the server's processes; "
        "other: cores busy with anything else (worst round); p50 x, p99 x: latency at "
        f"{sets[1].label} over {sets[0].label}"
    )
    print(table(endpoints, sets, results))
    over = [
        e.name
        for e in endpoints
        if e.name in results[0]
        and e.name in results[1]
        and not growth(results[0][e.name], results[1][e.name])[2]
    ]
    print(
        f"\ntarget: p50 and p99 at {sets[1].label} within {TARGET_GROWTH}x of {sets[0].label}: "
        + ("met" if not over else "MISSED on " + ", ".join(over))
    )


# --- The run -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    bench.add_database_arguments(parser)
    parser.add_argument("--grown-db", default=GROWN_DB, help="the ~1M database's name")
    parser.add_argument(
        "--rebuild", action="store_true", help="drop the ~1M database and build it anew"
    )
    parser.add_argument("--scale", type=int, default=700, help="seed scale if the DB is empty")
    parser.add_argument(
        "--reseed",
        action="store_true",
        help="drop the bench database and seed it anew (the ~1M one is rebuilt)",
    )
    parser.add_argument(
        "--allow-small", action="store_true", help="accept a database below the issue's size"
    )
    bench.add_load_arguments(parser, port=8731, port_help="dreamlust's port")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bench.ensure_wrk(args)
    # `kill` ends this run like Ctrl-C does: through the `finally` that stops the server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    secret_key = secrets.token_urlsafe(48)
    small_counts = bench.prepare_database(args, bench.dreamlust_env(args, secret_key))
    history = ensure_grown(args, secret_key)
    large_counts = asyncio.run(bench.count_rows(bench.database_url(args, args.grown_db)))
    sets = [
        DataSet(size_label(small_counts.get("content", 0)), args.db, small_counts),
        DataSet(size_label(large_counts.get("content", 0)), args.grown_db, large_counts),
    ]
    results = []
    endpoints: list[bench.Endpoint] = []
    with tempfile.TemporaryDirectory(prefix="dreamlust-growth-") as tmp:
        for data_set in sets:
            endpoints, medians = measure(args, data_set, secret_key, Path(tmp))
            results.append(medians)
    report(args, endpoints, sets, results, history)
    return 0


if __name__ == "__main__":
    sys.exit(main())
