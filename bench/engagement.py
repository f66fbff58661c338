"""Load-test recording views and toggling likes on one hot item against a minimal baseline.

    .venv/bin/python bench/engagement.py     # or: make bench-engagement

1. uses the `dreamlust_bench` database of bench/run.py (it must exist: run `make bench`
   once), picks two items every anonymous viewer may open (one hot item for dreamlust,
   one for the baseline) and the users who will like them, and mints their access
   tokens up front;
2. starts three servers on 127.0.0.1, each with 2 uvicorn workers: dreamlust without Redis
   (views counted in SQL per request), dreamlust with `REDIS_URL` and the read cache in
   Redis (views buffered in Redis, the hot item's visibility kept there too, under a key
   prefix of this run, flushed every 5 s by a flush loop like the worker's),
   and the baseline (bench/engagement_baseline.py);
3. runs wrk against each, in turn, each run after a VACUUM of the content, creators and
   likes tables (so that no run pays for the dead row versions of the one before):
   - views: `POST /content/{id}/views {"duration": 30}`, every request a new viewer (a
     User-Agent of its own, made by a Lua script);
   - likes: `PUT`/`DELETE /content/{id}/like`, users taking turns so that every request
     really adds or removes a like (dreamlust without Redis against the baseline);
4. checks that dreamlust's counters stayed exact: its item's `view_count` and creator's
   `total_views` grew by as many view rows as were stored (after the last flush), and
   `like_count` still equals the item's like rows;
5. prints req/s, p50, p99, CPU per request and the ratios to the baseline, stops the
   servers and puts back the baseline item's `view_count`, which the baseline moved
   without storing views. The views and likes dreamlust stored stay (they are consistent).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg

import run as bench  # bench/ is the script's directory, hence on sys.path

HOT_ITEM_SQL = bench.VISIBLE_IDS_SQL
LIKERS_SQL = """
SELECT id, role FROM users
WHERE status = 'ACTIVE' AND deleted_at IS NULL
ORDER BY md5(id::text) LIMIT $1
"""
FLUSH_SECONDS = 5.0
# Fixed, so that a run stopped midway leaves its buffered views to the next run's drain.
BUFFER_PREFIX = "dreamlust-bench:views"

VIEWS_LUA = """
-- Every request a viewer never seen before: its own User-Agent. `thread_id` is the
-- global each thread gets from setup() (a local of that name would hide it).
local counter = 0
local threads = 0
local body = '{"duration": 30}'
local headers = {["Content-Type"] = "application/json"}
function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end
function request()
  counter = counter + 1
  headers["User-Agent"] = "bench-%(tag)s-" .. thread_id .. "-" .. counter
  return wrk.format("POST", "%(path)s", headers, body)
end
"""

LIKES_LUA = """
-- Request k is made by user k mod N, who likes on even passes and unlikes on odd ones,
-- so that every request adds or removes a like (threads interleave their k; `thread_id`
-- is the global each thread gets from setup()).
local tokens = {%(tokens)s}
local counter = 0
local threads = 0
function setup(thread)
  thread:set("thread_id", threads)
  threads = threads + 1
end
function request()
  local k = counter * %(threads)d + thread_id
  counter = counter + 1
  local method = "PUT"
  if math.floor(k / #tokens) %% 2 == 1 then method = "DELETE" end
  local headers = {["Authorization"] = "Bearer " .. tokens[(k %% #tokens) + 1]}
  return wrk.format(method, "%(path)s", headers)
end
"""


@dataclass(frozen=True)
class Target:
    """One server measured on one workload."""

    workload: str  # "views" or "likes"
    server: bench.Server
    companions: tuple[bench.Server, ...] = ()  # processes whose CPU counts too (flush loop)


@dataclass(frozen=True)
class Item:
    content_id: uuid.UUID
    creator_id: uuid.UUID


@dataclass(frozen=True)
class Hot:
    dreamlust: Item
    baseline: Item
    liker_ids: tuple[uuid.UUID, ...]
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Counts:
    view_count: int
    view_rows: int
    total_views: int
    like_count: int
    like_rows: int


# --- The data -----------------------------------------------------------------------------


async def pick_hot(url: str, secret_key: str, likers: int) -> Hot:
    from dreamlust.access_tokens import AccessTokens
    from dreamlust.models import User
    from dreamlust.models.enums import UserRole

    conn = await asyncpg.connect(url)
    try:
        items = [
            Item(
                row[0], await conn.fetchval("SELECT creator_id FROM content WHERE id = $1", row[0])
            )
            for row in await conn.fetch(HOT_ITEM_SQL, 2)
        ]
        users = await conn.fetch(LIKERS_SQL, likers)
    finally:
        await conn.close()
    tokens = AccessTokens(secret_key.encode(), timedelta(hours=2))
    return Hot(
        dreamlust=items[0],
        baseline=items[1],
        liker_ids=tuple(row["id"] for row in users),
        tokens=tuple(tokens.issue(User(id=row["id"], role=UserRole(row["role"]))) for row in users),
    )


async def read_counts(url: str, item: Item) -> Counts:
    conn = await asyncpg.connect(url)
    try:
        row = await conn.fetchrow(
            """
            SELECT c.view_count, c.like_count, cr.total_views,
                   (SELECT count(*) FROM views WHERE content_id = c.id) AS view_rows,
                   (SELECT count(*) FROM likes WHERE content_id = c.id) AS like_rows
            FROM content c JOIN creators cr ON cr.id = c.creator_id WHERE c.id = $1
            """,
            item.content_id,
        )
    finally:
        await conn.close()
    return Counts(
        row["view_count"], row["view_rows"], row["total_views"], row["like_count"], row["like_rows"]
    )


async def unlike_all(url: str, hot: Hot, item: Item) -> None:
    """Start a like run from no like by the bench's users, counters moved to match."""
    conn = await asyncpg.connect(url)
    try:
        async with conn.transaction():
            removed = await conn.fetchval(
                "WITH gone AS (DELETE FROM likes WHERE content_id = $1 AND user_id = ANY($2) "
                "RETURNING 1) SELECT count(*) FROM gone",
                item.content_id,
                list(hot.liker_ids),
            )
            await conn.execute(
                "UPDATE creators SET total_likes = total_likes - $2 WHERE id = $1",
                item.creator_id,
                removed,
            )
            await conn.execute(
                "UPDATE content SET like_count = like_count - $2 WHERE id = $1",
                item.content_id,
                removed,
            )
    finally:
        await conn.close()


async def put_back_view_count(url: str, item: Item, view_count: int) -> None:
    """The baseline counts views without storing them: undo its increments."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "UPDATE content SET view_count = $2 WHERE id = $1", item.content_id, view_count
        )
    finally:
        await conn.close()


async def vacuum_hot_rows(url: str) -> None:
    """Clear the dead versions that the last run left of the hot rows (every counted view
    or like rewrites its item's and creator's rows), so that each run starts from the same
    state: without it, whichever server runs later works through a longer chain of them."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM content, creators, likes")
    finally:
        await conn.close()


# --- The flush loop (run as its own process: `engagement.py --flush-loop`) ---------------


async def flush_loop() -> None:
    """Flush the buffered views every FLUSH_SECONDS until SIGTERM, then once more; a failed
    flush is logged and retried at the next interval, as the worker does."""
    from dreamlust.config import get_settings
    from dreamlust.jobs.periodic import flush_views
    from dreamlust.runtime import Runtime

    runtime = Runtime.start(get_settings())
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        while not stop.is_set():
            try:
                await flush_views(runtime)
            except Exception:
                logging.exception("flush failed")
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FLUSH_SECONDS)
        await flush_views(runtime)
    finally:
        await runtime.close()


# --- The servers --------------------------------------------------------------------------


def _serve(port: int, workers: int) -> list[str]:
    return [
        str(bench.DREAMLUST), "serve", "--host", bench.HOST, "--port", str(port),
        "--workers", str(workers),
    ]  # fmt: skip


def _baseline(port: int, workers: int) -> list[str]:
    return [
        str(bench.UVICORN), "engagement_baseline:app", "--app-dir", "bench",
        "--host", bench.HOST, "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


@contextmanager
def servers(
    args: argparse.Namespace, env: dict[str, str], logs: Path, prefix: str
) -> Iterator[dict[str, bench.Server]]:
    pool = {"DREAMLUST_DB_POOL_SIZE": str(args.db_pool_size), "DREAMLUST_DB_MAX_OVERFLOW": "0"}
    # The load comes from one address and a few accounts: the write limits would refuse it.
    unlimited = {
        "DREAMLUST_RATE_LIMIT_WRITE_PER_ACCOUNT": "1000000000/minute",
        "DREAMLUST_RATE_LIMIT_WRITE_PER_ADDRESS": "1000000000/minute",
    }
    direct_env = {**env, **pool, **unlimited}
    # The read cache on, in Redis: a view of the hot item is checked against the item's
    # visibility kept there under the cache's generations (see views/buffer.py).
    redis_env = {
        **direct_env,
        "REDIS_URL": args.redis_url,
        "DREAMLUST_VIEW_BUFFER_PREFIX": prefix,
        "DREAMLUST_CACHE_ENABLED": "true",
        "DREAMLUST_CACHE_PREFIX": f"{prefix}:cache",
    }
    baseline_env = {
        **env,
        "BENCH_DATABASE_URL": env["DATABASE_URL"],
        "BENCH_POOL_MIN": "1",
        "BENCH_POOL_MAX": str(args.db_pool_size),
    }
    running = {
        "direct": bench.Server("dreamlust", args.port),
        "redis": bench.Server("dreamlust+redis", args.port + 1),
        "baseline": bench.Server("baseline", args.port + 2),
        "flush": bench.Server("flush-loop", 0),
    }
    try:
        bench.start(running["direct"], _serve(args.port, args.workers), direct_env, logs)
        bench.start(running["redis"], _serve(args.port + 1, args.workers), redis_env, logs)
        bench.start(running["baseline"], _baseline(args.port + 2, args.workers), baseline_env, logs)
        bench.start(running["flush"], [sys.executable, __file__, "--flush-loop"], redis_env, logs)
        for name in ("direct", "redis"):
            bench.wait_ready(running[name], "/healthz")
        wait_listening(running["baseline"])
        bench.log("servers ready: " + ", ".join(f"{s.name} {s.url}" for s in running.values()))
        yield running
    finally:
        for server in running.values():
            bench.stop(server)
        bench.log("servers stopped")


def wait_listening(server: bench.Server, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(OSError):
            status, _ = bench.get(server.url + "/")
            if status == 404:
                return
        time.sleep(0.5)
    raise SystemExit(f"{server.name} did not start in {timeout:.0f} s")


# --- Load ---------------------------------------------------------------------------------


def views_script(directory: Path, item: Item) -> Path:
    """A script whose viewers are new to the server (a tag of this run in every agent)."""
    script = directory / f"views-{secrets.token_hex(4)}.lua"
    path = f"/api/v1/content/{item.content_id}/views"
    script.write_text(VIEWS_LUA % {"tag": secrets.token_hex(6), "path": path})
    return script


def likes_script(directory: Path, hot: Hot, item: Item, threads: int) -> Path:
    script = directory / f"likes-{item.content_id}.lua"
    tokens = ", ".join(f'"{token}"' for token in hot.tokens)
    path = f"/api/v1/content/{item.content_id}/like"
    script.write_text(LIKES_LUA % {"tokens": tokens, "threads": threads, "path": path})
    return script


def load(args: argparse.Namespace, target: Target, script: Path, duration: int) -> bench.Result:
    """One wrk run; the CPU of the server and its companions counts as the app's."""
    leaders = [s.process.pid for s in (target.server, *target.companions) if s.process]
    return bench.measure_wrk(args, target.server.url + "/", script, duration, leaders)


def drain(args: argparse.Namespace, env: dict[str, str], prefix: str) -> int:
    """Flush everything the Redis path still buffers; how many views that stored."""
    code = (
        "import asyncio\n"
        "from dreamlust.config import get_settings\n"
        "from dreamlust.runtime import Runtime\n"
        "from dreamlust.views import service\n"
        "async def main():\n"
        "    runtime = Runtime.start(get_settings())\n"
        "    buffer = service.buffer_of(runtime)\n"
        "    stored = 0\n"
        "    try:\n"
        "        while await runtime.redis.exists(buffer.pending, buffer.processing):\n"
        "            stored += await service.flush_buffered(runtime)\n"
        "    finally:\n"
        "        await runtime.close()\n"
        "    print(stored)\n"
        "asyncio.run(main())\n"
    )
    redis_env = {**env, "REDIS_URL": args.redis_url, "DREAMLUST_VIEW_BUFFER_PREFIX": prefix}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=redis_env,
        cwd=bench.ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return int(done.stdout.strip() or 0)


def show_errors(logs: Path) -> None:
    """The end of every server log that reports an error."""
    for path in sorted(logs.glob("*.log")):
        text = path.read_text(errors="replace")
        if "Traceback" in text or "ERROR" in text:
            bench.log(f"{path.name} reports errors:\n{text[-3000:]}")


# --- Report -------------------------------------------------------------------------------


def report(rows: Sequence[tuple[str, str, bench.Result]], baselines: dict[str, float]) -> str:
    header = (
        f"{'workload':<30} {'server':<16} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'app CPU':>9} {'db CPU':>8} {'other':>6} {'ratio':>7}"
    )
    lines = [header, "-" * len(header)]
    for workload, server, result in rows:
        ratio = ""
        if server != "baseline" and workload in baselines:
            ratio = f"{result.requests_per_second / baselines[workload]:.2f}x"
        lines.append(
            f"{workload:<30} {server:<16} {result.requests_per_second:>8.0f} "
            f"{result.p50_ms:>8.2f} {result.p99_ms:>8.2f} {result.errors:>6} "
            f"{result.cpu_us_per_request:>7.0f}us {result.db_cpu_us_per_request:>6.0f}us "
            f"{result.other_cores:>6.2f} {ratio:>7}"
        )
    return "\n".join(lines)


# --- The run ------------------------------------------------------------------------------


def measure(
    args: argparse.Namespace, running: dict[str, bench.Server], hot: Hot, work: Path
) -> dict[tuple[str, str], list[bench.Result]]:
    views, likes = "POST /content/{id}/views", "PUT/DELETE /content/{id}/like"
    flush = (running["flush"],)
    targets = [
        (views, "dreamlust", Target("views", running["direct"]), hot.dreamlust),
        (views, "dreamlust+redis", Target("views", running["redis"], flush), hot.dreamlust),
        (views, "baseline", Target("views", running["baseline"]), hot.baseline),
        (likes, "dreamlust", Target("likes", running["direct"]), hot.dreamlust),
        (likes, "baseline", Target("likes", running["baseline"]), hot.baseline),
    ]
    like_scripts = {
        item: likes_script(work, hot, item, args.threads) for item in (hot.dreamlust, hot.baseline)
    }
    results: dict[tuple[str, str], list[bench.Result]] = {}
    for round_ in range(args.warmup_rounds + args.rounds):
        warming = round_ < args.warmup_rounds
        for workload, name, target, item in targets:
            if target.workload == "likes":
                asyncio.run(unlike_all(args.url, hot, item))
                script = like_scripts[item]
            else:
                script = views_script(work, item)
            asyncio.run(vacuum_hot_rows(args.url))
            result = load(args, target, script, args.warmup if warming else args.duration)
            if warming:
                continue
            results.setdefault((workload, name), []).append(result)
            bench.log(
                f"round {round_ - args.warmup_rounds + 1} {workload:<30} {name:<16} "
                f"{result.requests_per_second:>7.0f} req/s  p50 {result.p50_ms:.2f} ms  "
                f"p99 {result.p99_ms:.2f} ms  errors {result.errors}  CPU/req: app "
                f"{result.cpu_us_per_request:.0f} us, db {result.db_cpu_us_per_request:.0f} us; "
                f"other load {result.other_cores:.2f} cores"
            )
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    bench.add_database_arguments(parser)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers per server")
    parser.add_argument("--port", type=int, default=8711, help="first of three ports")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds per warm-up run")
    parser.add_argument("--warmup-rounds", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=2, help="runs per workload and server")
    parser.add_argument("--likers", type=int, default=2_000, help="users who like the item")
    parser.add_argument(
        "--db-pool-size",
        type=int,
        default=10,
        help="connections per worker, all three servers (6 workers: 60 of PostgreSQL's 100)",
    )
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk")
    parser.add_argument("--flush-loop", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.flush_loop:
        asyncio.run(flush_loop())
        return 0
    bench.ensure_wrk(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    secret_key = secrets.token_urlsafe(48)
    env = {
        **bench.dreamlust_env(args, secret_key),
        "DREAMLUST_VIEW_FLUSH_SECONDS": str(FLUSH_SECONDS),
    }
    args.url = bench.database_url(args, args.db)
    hot = asyncio.run(pick_hot(args.url, secret_key, args.likers))
    prefix = BUFFER_PREFIX
    if left := drain(args, env, prefix):
        bench.log(f"stored {left} views an interrupted run had left in Redis")
    bench.log(
        f"hot items: {hot.dreamlust.content_id} (dreamlust), {hot.baseline.content_id} "
        f"(baseline); {len(hot.tokens)} users like them in turn"
    )
    before = asyncio.run(read_counts(args.url, hot.dreamlust))
    baseline_before = asyncio.run(read_counts(args.url, hot.baseline))
    try:
        with tempfile.TemporaryDirectory(prefix="dreamlust-bench-") as tmp:
            work = Path(tmp)
            with servers(args, env, work, prefix) as running:
                try:
                    results = measure(args, running, hot, work)
                finally:
                    show_errors(work)
        # The flush loop flushed once more when it stopped; anything left goes now.
        drained = drain(args, env, prefix)
        after = asyncio.run(read_counts(args.url, hot.dreamlust))
    finally:
        asyncio.run(put_back_view_count(args.url, hot.baseline, baseline_before.view_count))
    print()
    print(
        f"engagement on one hot item, dreamlust vs baseline; {args.workers} uvicorn workers per "
        f"server, {args.db_pool_size} connections per worker; wrk -t{args.threads} "
        f"-c{args.connections} -d{args.duration}s --latency; median of {args.rounds} round(s)\n"
        "app CPU / db CPU: CPU time per request of the server's processes (dreamlust+redis: "
        "with its flush loop) / of PostgreSQL; other: cores busy with anything else"
    )
    rows = [
        (workload, server, bench.median_of(runs)) for (workload, server), runs in results.items()
    ]
    baselines = {w: r.requests_per_second for w, s, r in rows if s == "baseline"}
    print(report(rows, baselines))
    stored = after.view_rows - before.view_rows
    counted = after.view_count - before.view_count
    total = after.total_views - before.total_views
    likes_exact = after.like_count - after.like_rows == before.like_count - before.like_rows
    exact = counted == stored == total and likes_exact
    print(
        f"\ndreamlust's counters: {stored:,} views stored ({drained:,} in the final flush), "
        f"view_count +{counted:,}, creator total_views +{total:,}; like_count "
        f"{after.like_count:,} for {after.like_rows:,} like rows: "
        + ("exact" if exact else "DRIFTED")
    )
    return 0 if exact else 1


if __name__ == "__main__":
    sys.exit(main())
