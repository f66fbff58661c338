"""Load-test dreamlust's anonymous read endpoints against a minimal baseline, in one run.

    .venv/bin/python bench/run.py            # or: make bench

1. makes sure PostgreSQL has a `dreamlust_bench` database filled with demo data
   (`dreamlust seed --scale N` only when it is empty), checks the row counts, refreshes
   trending scores (`dreamlust worker --once`) and VACUUM ANALYZEs;
2. starts dreamlust (`dreamlust serve --workers 2`, production settings, no Redis) and the
   baseline (bench/baseline_app.py under uvicorn, same worker count), both on 127.0.0.1;
3. checks that the baseline sends the same SQL as dreamlust (bench/sql_capture.py) and that
   both answer every endpoint with the same JSON (first page and the next), then warms up;
4. runs wrk on each endpoint against each server in turn (dreamlust, baseline, dreamlust,
   …), rotating over many content ids / search terms with a Lua script;
5. prints requests/s, p50, p99, server CPU per request and the dreamlust/baseline ratio;
6. stops both servers (also on Ctrl-C or error). The database is kept for the next run.

Everything listens on 127.0.0.1 only and every step is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

import baseline_app  # bench/ is the script's directory, hence on sys.path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DREAMLUST = BIN / "dreamlust"
UVICORN = BIN / "uvicorn"
HOST = "127.0.0.1"

# The issue's floor for the data set. `--scale 700` gives 210,000 content, 14,000 creators,
# 4.31M views and 730k likes (content = 300 * scale, creators = 20 * scale).
MINIMUM_ROWS = {"creators": 10_000, "content": 200_000, "views": 2_000_000, "likes": 500_000}
TARGET_RATIO = 0.5
DETAIL_IDS = 5_000
SEARCH_TERMS = 200

# The anonymous viewer's visibility rule (content/visibility.py), to pick detail ids
# that both servers answer with 200.
VISIBLE_IDS_SQL = """
SELECT c.id FROM content c JOIN creators cr ON cr.id = c.creator_id
WHERE c.status = 'PUBLISHED' AND c.is_public AND c.published_at <= now()
  AND NOT c.is_nsfw AND NOT c.age_restricted AND c.deleted_at IS NULL
  AND cr.status = 'APPROVED' AND cr.deleted_at IS NULL
ORDER BY md5(c.id::text) LIMIT $1
"""
SEARCH_TERMS_SQL = """
(SELECT name FROM tags ORDER BY usage_count DESC, name LIMIT $1)
UNION
(SELECT split_part(title, ' ', 1) FROM content WHERE deleted_at IS NULL
 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT $1)
"""

# GET /users/me/feed: a signed-in adult who hides NSFW (the default policy), following
# FEED_FOLLOWS approved creators (added to the bench data once, counters kept exact).
FEED_FOLLOWS = 50
FEED_VIEWER_SQL = """
SELECT id FROM users WHERE status = 'ACTIVE' AND role = 'USER' AND deleted_at IS NULL
  AND birth_date <= now() - interval '18 years' AND preferences->>'nsfw_policy' = 'hide'
ORDER BY id LIMIT 1
"""
FEED_FOLLOW_SQL = """
WITH added AS (
  INSERT INTO follows (id, user_id, creator_id, created_at)
  SELECT gen_random_uuid(), $1, chosen.id, now() FROM (
    SELECT id FROM creators WHERE status = 'APPROVED' AND deleted_at IS NULL
    ORDER BY md5(id::text) LIMIT $2
  ) AS chosen
  ON CONFLICT (user_id, creator_id) DO NOTHING
  RETURNING creator_id
)
UPDATE creators SET follower_count = follower_count + 1
WHERE id IN (SELECT creator_id FROM added)
"""

ROTATE_LUA = """
-- Each wrk thread walks the same list from its own offset.
local paths = {%s}
local counter = 0
offset = 0  -- a global: setup() sets each thread's own with thread:set()
local threads = 0
function setup(thread)
  thread:set("offset", threads * 7919)
  threads = threads + 1
end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[((counter + offset) %% #paths) + 1])
end
"""


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str  # the first path; a rotating endpoint also has a Lua script
    paths: tuple[str, ...] = ()
    # The baseline's main statement for the first page and the next ones (None: no pages).
    sql: tuple[str, str | None] = ("", None)
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request (a signed-in viewer)
    signed_in: bool = False  # the user is read first; premium items' entitlements after


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_us_per_request: float
    db_cpu_us_per_request: float
    other_cores: float  # CPU busy with anything but this server, PostgreSQL and wrk
    wrk_cpu_us_per_request: float = 0.0


@dataclass
class Measurements:
    runs: dict[tuple[str, str], list[Result]] = field(default_factory=dict)

    def add(self, endpoint: str, server: str, result: Result) -> None:
        self.runs.setdefault((endpoint, server), []).append(result)

    def median(self, endpoint: str, server: str) -> Result | None:
        results = self.runs.get((endpoint, server))
        return median_of(results) if results else None


def median_of(results: Sequence[Result]) -> Result:
    """The rounds of one measurement as one: medians, total counts, the worst other load."""
    return Result(
        requests_per_second=statistics.median(r.requests_per_second for r in results),
        p50_ms=statistics.median(r.p50_ms for r in results),
        p99_ms=statistics.median(r.p99_ms for r in results),
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        cpu_us_per_request=statistics.median(r.cpu_us_per_request for r in results),
        db_cpu_us_per_request=statistics.median(r.db_cpu_us_per_request for r in results),
        other_cores=max(r.other_cores for r in results),
        wrk_cpu_us_per_request=statistics.median(r.wrk_cpu_us_per_request for r in results),
    )


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def ensure_wrk(args: argparse.Namespace) -> None:
    """wrk comes from Debian's packages; install it when missing (as root)."""
    if shutil.which(args.wrk):
        return
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise SystemExit("wrk is missing: apt-get update && apt-get install -y wrk")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "wrk"]):
        run_cli(command, {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=600)
    args.wrk = shutil.which("wrk") or "wrk"


# --- 1. The database ---------------------------------------------------------------------


def database_url(args: argparse.Namespace, name: str) -> str:
    return f"postgresql://{args.pg_user}@{args.pg_host}:{args.pg_port}/{name}"


async def ensure_database(args: argparse.Namespace) -> None:
    admin = await asyncpg.connect(database_url(args, "postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", args.db)
        if exists and args.reseed:
            log(f"--reseed: dropping database {args.db}")
            await admin.execute(f'DROP DATABASE "{args.db}" WITH (FORCE)')
            exists = False
        if not exists:
            log(f"creating database {args.db}")
            await admin.execute(f'CREATE DATABASE "{args.db}"')
    finally:
        await admin.close()


async def count_rows(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        present = await conn.fetchval("SELECT to_regclass('public.users') IS NOT NULL")
        if not present:
            return {}
        counts = {"users": await conn.fetchval("SELECT count(*) FROM users")}
        for table in MINIMUM_ROWS:
            counts[table] = await conn.fetchval(f"SELECT count(*) FROM {table}")  # noqa: S608
        return counts
    finally:
        await conn.close()


def dreamlust_env(args: argparse.Namespace, secret_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAMLUST_")}
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=database_url(args, args.db),
        DREAMLUST_ENV="production",
        DREAMLUST_SECRET_KEY=secret_key,
        DREAMLUST_LOG_LEVEL="WARNING",
        # Uncached, like the baseline: `make bench-cache` measures the read cache.
        DREAMLUST_CACHE_ENABLED="false",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_cli(command: Sequence[str], env: dict[str, str], timeout: float) -> None:
    log("$ " + " ".join(command))
    subprocess.run(command, env=env, cwd=ROOT, check=True, timeout=timeout)


async def missing_indexes(url: str) -> list[str]:
    """Indexes the models declare that the database lacks (a database built by an older
    revision of a migration that was later edited in place)."""
    from dreamlust.models import Base

    declared = {i.name for t in Base.metadata.tables.values() for i in t.indexes if i.name}
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
    finally:
        await conn.close()
    return sorted(declared - {row[0] for row in rows})


async def vacuum_analyze(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for table in (
            "content",
            "creators",
            "content_categories",
            "content_tags",
            "categories",
            "tags",
        ):
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()


def prepare_database(args: argparse.Namespace, env: dict[str, str]) -> dict[str, int]:
    url = database_url(args, args.db)
    asyncio.run(ensure_database(args))
    counts = asyncio.run(count_rows(url))
    if not counts.get("users"):
        log(
            f"{args.db} is empty: seeding at scale {args.scale} (8 minutes at scale 700 on 2 cores)"
        )
        seed = [str(DREAMLUST), "seed", "--scale", str(args.scale)]
        run_cli(seed, env, timeout=args.scale * 3 + 600)
        counts = asyncio.run(count_rows(url))
    else:
        log(f"{args.db} already holds data: not seeding")
    log("rows: " + ", ".join(f"{table} {count:,}" for table, count in counts.items()))
    short = {t: n for t, n in MINIMUM_ROWS.items() if counts.get(t, 0) < n}
    if short and not args.allow_small:
        raise SystemExit(
            f"{args.db} is below the required size ({short}); re-run with --reseed and a "
            "larger --scale"
        )
    if not args.skip_worker:
        run_cli([str(DREAMLUST), "worker", "--once"], env, timeout=900)
    if missing := asyncio.run(missing_indexes(url)):
        log(
            f"WARNING: {args.db} lacks indexes the models declare ({', '.join(missing)}); "
            "it was built by an older version of the migrations: re-run with --reseed"
        )
    log("VACUUM ANALYZE")
    asyncio.run(vacuum_analyze(url))
    return counts


async def feed_viewer(url: str) -> str:
    """The feed's viewer, made to follow `FEED_FOLLOWS` creators (once)."""
    conn = await asyncpg.connect(url)
    try:
        user_id = await conn.fetchval(FEED_VIEWER_SQL)
        if user_id is None:
            raise SystemExit("the bench data has no active adult user who hides NSFW")
        await conn.execute(FEED_FOLLOW_SQL, user_id, FEED_FOLLOWS)
        return str(user_id)
    finally:
        await conn.close()


def access_token(secret_key: str, user_id: str) -> str:
    """An access token of the viewer, as dreamlust issues them, valid for the whole run."""
    import uuid
    from datetime import timedelta

    from dreamlust.access_tokens import AccessTokens
    from dreamlust.models import User
    from dreamlust.models.enums import UserRole

    tokens = AccessTokens(secret_key.encode(), timedelta(hours=6))
    return tokens.issue(User(id=uuid.UUID(user_id), role=UserRole.USER))


async def sample(url: str, sql: str, size: int) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        return [str(row[0]) for row in await conn.fetch(sql, size) if row[0]]
    finally:
        await conn.close()


# --- 2. The servers ----------------------------------------------------------------------


def start(server: Server, command: Sequence[str], env: dict[str, str], logs: Path) -> None:
    server.log = logs / f"{server.name}.log"
    with server.log.open("wb") as out:
        server.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(server: Server) -> None:
    process = server.process
    if process is None or process.poll() is not None:
        return
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def get(
    url: str, timeout: float = 10, headers: Sequence[tuple[str, str]] = ()
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=dict(headers))  # noqa: S310 (loopback)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_ready(server: Server, path: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            tail = server.log.read_text()[-3000:] if server.log else ""
            raise SystemExit(f"{server.name} exited early:\n{tail}")
        with suppress(OSError):
            if get(server.url + path, timeout=2)[0] == 200:
                return
        time.sleep(0.5)
    tail = server.log.read_text()[-3000:] if server.log else ""
    raise SystemExit(f"{server.name} did not become ready in {timeout:.0f} s:\n{tail}")


def start_dreamlust(
    server: Server, args: argparse.Namespace, env: dict[str, str], logs: Path
) -> None:
    """`dreamlust serve` with `args.workers` workers and `args.db_pool_size` connections
    per worker (no overflow; 0: dreamlust's default pool)."""
    if args.db_pool_size:
        size = str(args.db_pool_size)
        env = {**env, "DREAMLUST_DB_POOL_SIZE": size, "DREAMLUST_DB_MAX_OVERFLOW": "0"}
    command = [str(DREAMLUST), "serve", "--host", HOST, "--port", str(server.port)]
    start(server, [*command, "--workers", str(args.workers)], env, logs)


@contextmanager
def servers(args: argparse.Namespace, env: dict[str, str], logs: Path) -> Iterator[list[Server]]:
    dreamlust = Server("dreamlust", args.port)
    baseline = Server("baseline", args.port + 1)
    baseline_env = {**env, "BENCH_DATABASE_URL": env["DATABASE_URL"]}
    if args.db_pool_size:
        baseline_env.update(BENCH_POOL_MIN="1", BENCH_POOL_MAX=str(args.db_pool_size))
    workers = str(args.workers)
    try:
        start_dreamlust(dreamlust, args, env, logs)
        start(
            baseline,
            [
                str(UVICORN),
                "baseline_app:app",
                "--app-dir",
                "bench",
                "--host",
                HOST,
                "--port",
                str(baseline.port),
                "--workers",
                workers,
                "--loop",
                "uvloop",
                "--http",
                "httptools",
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            baseline_env,
            logs,
        )
        wait_ready(dreamlust, "/healthz")
        wait_ready(baseline, "/api/v1/content?limit=1")
        log(f"dreamlust on {dreamlust.url}, baseline on {baseline.url} ({workers} workers each)")
        yield [dreamlust, baseline]
    finally:
        for server in (dreamlust, baseline):
            stop(server)
        log("servers stopped")


# --- 3. Same answers? --------------------------------------------------------------------


def check_parity(endpoints: Sequence[Endpoint], dreamlust: Server, baseline: Server) -> bool:
    """Both servers must return the same JSON (a page 2 through the cursor, too)."""
    same = True
    for endpoint in endpoints:
        headers = endpoint.headers
        for path in endpoint.paths[:3] or (endpoint.path,):
            ours = get(dreamlust.url + path, headers=headers)
            theirs = get(baseline.url + path, headers=headers)
            verdict = _compare(path, ours, theirs)
            if verdict is None and b"next_cursor" in ours[1]:
                cursor = json.loads(ours[1])["next_cursor"]
                if cursor:
                    page2 = f"{path}{'&' if '?' in path else '?'}cursor={cursor}"
                    verdict = _compare(
                        page2,
                        get(dreamlust.url + page2, headers=headers),
                        get(baseline.url + page2, headers=headers),
                    )
            if verdict is not None:
                same = False
                log(f"  MISMATCH {endpoint.name}: {verdict}")
                break
        else:
            log(f"  {endpoint.name}: identical JSON")
    return same


def _compare(path: str, ours: tuple[int, bytes], theirs: tuple[int, bytes]) -> str | None:
    if ours[0] != theirs[0]:
        return f"{path}: status {ours[0]} vs {theirs[0]}"
    a, b = json.loads(ours[1]), json.loads(theirs[1])
    if a == b:
        return None
    items_a = a.get("items", [a]) if isinstance(a, dict) else a
    items_b = b.get("items", [b]) if isinstance(b, dict) else b
    for x, y in zip(items_a, items_b, strict=False):
        diff = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
        if diff:
            ours_values = [x.get(k) for k in diff]
            theirs_values = [y.get(k) for k in diff]
            return f"{path}: fields differ: {diff} ({ours_values} vs {theirs_values})"
    return f"{path}: bodies differ ({len(ours[1])} vs {len(theirs[1])} bytes)"


def _normalized(statement: str) -> str:
    return re.sub(r"\s+", " ", statement).strip()


def _difference(ours: str, theirs: str) -> str:
    at = next(
        (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
        min(len(ours), len(theirs)),
    )
    start = max(at - 60, 0)
    return f"dreamlust: …{ours[start : at + 80]}…\n      baseline:  …{theirs[start : at + 80]}…"


def check_sql(endpoints: Sequence[Endpoint], dreamlust: Server, env: dict[str, str]) -> bool:
    """Capture the SQL dreamlust runs for each endpoint (first page and next page) and
    compare it with the baseline's statements, modulo whitespace."""
    by_headers: dict[tuple[tuple[str, str], ...], list[Endpoint]] = {}
    for endpoint in endpoints:
        by_headers.setdefault(endpoint.headers, []).append(endpoint)
    # Every group is checked and reported, even after one differs.
    same = [_check_sql(group, headers, dreamlust, env) for headers, group in by_headers.items()]
    return all(same)


def _check_sql(
    endpoints: Sequence[Endpoint],
    headers: tuple[tuple[str, str], ...],
    dreamlust: Server,
    env: dict[str, str],
) -> bool:
    """`check_sql` for endpoints requested with the same headers."""
    expected: dict[str, list[str]] = {}

    def statements(endpoint: Endpoint, path: str, main: str) -> tuple[list[str], object]:
        body = json.loads(get(dreamlust.url + path, headers=headers)[1])
        if not endpoint.signed_in:
            return [main], body
        after = baseline_app.entitlement_statements(body["items"])
        return [baseline_app.USER_SQL, main, *after], body

    for endpoint in endpoints:
        first, following = endpoint.sql
        expected[endpoint.path], body = statements(endpoint, endpoint.path, first)
        cursor = body.get("next_cursor") if isinstance(body, dict) else None
        if following is not None and cursor:
            joiner = "&" if "?" in endpoint.path else "?"
            page2 = f"{endpoint.path}{joiner}{urllib.parse.urlencode({'cursor': cursor})}"
            expected[page2], _ = statements(endpoint, page2, following)
    options = [option for name, value in headers for option in ("--header", f"{name}: {value}")]
    capture = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "sql_capture.py"), *options, *expected],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if capture.returncode != 0:
        log(f"  could not capture dreamlust's SQL:\n{capture.stderr[-2000:]}")
        return False
    captured: dict[str, list[str]] = json.loads(capture.stdout)
    same = True
    for path, statements in expected.items():
        ours = [_normalized(s) for s in captured.get(path, [])]
        theirs = [_normalized(s) for s in statements]
        if ours == theirs:
            log(f"  same SQL: {path[:70]} ({len(ours)} statements)")
            continue
        same = False
        log(f"  SQL DIFFERS: {path[:70]} ({len(ours)} vs {len(theirs)} statements)")
        for a, b in zip(ours, theirs, strict=False):
            if a != b:
                log("      " + _difference(a, b))
                break
    return same


# --- 4. Load ------------------------------------------------------------------------------


def lua_script(paths: Sequence[str], directory: Path, name: str) -> Path:
    script = directory / f"{name}.lua"
    script.write_text(ROTATE_LUA % ", ".join(json.dumps(p) for p in paths))
    return script


def wrk_command(
    args: argparse.Namespace,
    url: str,
    duration: int,
    script: Path | None,
    headers: Sequence[tuple[str, str]] = (),
) -> list[str]:
    command = [
        args.wrk,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "10s",
    ]
    if script is not None:
        command += ["-s", str(script)]
    for name, value in headers:
        command += ["-H", f"{name}: {value}"]
    return [*command, url]


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _find(pattern: str, output: str) -> str:
    match = re.search(pattern, output, re.MULTILINE)
    if match is None:
        raise ValueError(f"wrk output without {pattern!r}:\n{output}")
    return match.group(1)


def _ms(text: str) -> float:
    number, unit = _find(r"^([\d.]+)(?:us|ms|s|m)$", text), re.sub(r"^[\d.]+", "", text)
    return float(number) * _UNITS_MS[unit]


def parse_wrk(output: str) -> tuple[float, float, float, int, int]:
    rps = float(_find(r"Requests/sec:\s+([\d.]+)", output))
    p50 = _ms(_find(r"^\s+50%\s+(\S+)", output))
    p99 = _ms(_find(r"^\s+99%\s+(\S+)", output))
    total = int(_find(r"(\d+) requests in", output))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in match.groups())
    return rps, p50, p99, total, errors


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU of these processes (utime, stime from /proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def machine_busy_seconds() -> float:
    """CPU time spent on anything but idling, all cores together (/proc/stat)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def session_pids(leader: int) -> list[int]:
    """The server's processes: everything in the session its launcher started."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[3]) == leader:  # session id
                    pids.append(int(entry.name))
    return pids


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


def load(
    args: argparse.Namespace,
    server: Server,
    endpoint: Endpoint,
    script: Path | None,
    duration: int,
) -> Result:
    assert server.process is not None
    return measure_wrk(
        args,
        server.url + endpoint.path,
        script,
        duration,
        [server.process.pid],
        headers=endpoint.headers,
    )


def measure_wrk(
    args: argparse.Namespace,
    url: str,
    script: Path | None,
    duration: int,
    leaders: Sequence[int],
    *,
    headers: Sequence[tuple[str, str]] = (),
) -> Result:
    """One wrk run against `url`; the CPU of the process sessions led by `leaders` (a
    server and its companions) counts as the app's."""

    def app_pids() -> list[int]:
        return [pid for leader in leaders for pid in session_pids(leader)]

    app_before = cpu_seconds(app_pids())
    db_before = cpu_seconds(postgres_pids())
    busy_before, wrk_before = machine_busy_seconds(), children_cpu_seconds()
    started = time.monotonic()
    command = wrk_command(args, url, duration, script, headers)
    completed = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration + 60
    )
    elapsed = time.monotonic() - started
    # A process started during the run counts from zero; one that ended during it (a
    # PostgreSQL backend whose connection was closed) is lost, so keep pools steady.
    app_cpu = cpu_seconds(app_pids()) - app_before
    db_cpu = cpu_seconds(postgres_pids()) - db_before
    wrk_cpu = children_cpu_seconds() - wrk_before
    other = machine_busy_seconds() - busy_before - app_cpu - db_cpu - wrk_cpu
    rps, p50, p99, total, errors = parse_wrk(completed.stdout)
    per_request = 1e6 / max(total, 1)
    return Result(
        rps, p50, p99, total, errors, app_cpu * per_request, db_cpu * per_request,
        max(other, 0.0) / elapsed, wrk_cpu * per_request,
    )  # fmt: skip


# --- 5. Report ----------------------------------------------------------------------------


def table(endpoints: Sequence[Endpoint], measurements: Measurements) -> str:
    header = (
        f"{'endpoint':<22} {'server':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'app CPU':>9} {'db CPU':>8} {'other':>6} {'ratio':>9}"
    )
    lines = [header, "-" * len(header)]
    for endpoint in endpoints:
        ours = measurements.median(endpoint.name, "dreamlust")
        theirs = measurements.median(endpoint.name, "baseline")
        for server, result in (("dreamlust", ours), ("baseline", theirs)):
            if result is None:
                continue
            ratio = ""
            if server == "dreamlust" and theirs is not None:
                value = result.requests_per_second / theirs.requests_per_second
                mark = "ok" if value >= TARGET_RATIO else "LOW"
                ratio = f"{value:.2f}x {mark}"
            lines.append(
                f"{endpoint.name:<22} {server:<10} {result.requests_per_second:>9.0f} "
                f"{result.p50_ms:>8.2f} {result.p99_ms:>8.2f} {result.errors:>6} "
                f"{result.cpu_us_per_request:>7.0f}us {result.db_cpu_us_per_request:>6.0f}us "
                f"{result.other_cores:>6.2f} {ratio:>9}"
            )
    return "\n".join(lines)


# --- The run ------------------------------------------------------------------------------


def endpoints_to_measure(
    args: argparse.Namespace, scripts: Path, secret_key: str
) -> tuple[list[Endpoint], dict[str, Path | None]]:
    url = database_url(args, args.db)
    ids = asyncio.run(sample(url, VISIBLE_IDS_SQL, DETAIL_IDS))
    detail_paths = tuple(f"/api/v1/content/{id_}" for id_ in ids)
    latest, trending = baseline_app.LATEST, baseline_app.TRENDING["24h"]
    endpoints = [
        Endpoint(
            "GET /content?latest",
            "/api/v1/content?sort=latest",
            sql=(latest.first_page, latest.next_page),
        ),
        Endpoint(
            "GET /content/trending",
            "/api/v1/content/trending",
            sql=(trending.first_page, trending.next_page),
        ),
        Endpoint(
            "GET /content/{id}", detail_paths[0], detail_paths, (baseline_app.DETAIL_SQL, None)
        ),
    ]
    terms = asyncio.run(sample(url, SEARCH_TERMS_SQL, SEARCH_TERMS))
    search_paths = tuple("/api/v1/search?" + urllib.parse.urlencode({"q": term}) for term in terms)
    # The terms are part of the SQL: the statements checked are the first term's.
    search_sql = baseline_app.search_statements(baseline_app.search_terms(terms[0]))
    endpoints.append(Endpoint("GET /search?q=", search_paths[0], search_paths, search_sql))
    feed_sql = baseline_app.FEED_SQL[True]  # the bench's viewer is an adult
    token = access_token(secret_key, asyncio.run(feed_viewer(url)))
    endpoints.append(
        Endpoint(
            "GET /users/me/feed",
            "/api/v1/users/me/feed",
            sql=feed_sql,
            headers=(("Authorization", f"Bearer {token}"),),
            signed_in=True,
        )
    )
    selected = [e for e in endpoints if not args.only or any(s in e.name for s in args.only)]
    rotating = {
        e.name: lua_script(e.paths, scripts, f"rotate{index}") if e.paths else None
        for index, e in enumerate(selected)
    }
    return selected, rotating


def add_load_arguments(parser: argparse.ArgumentParser, *, port: int, port_help: str) -> None:
    """The options of a load run: servers, wrk, rounds and the endpoints measured."""
    parser.add_argument("--skip-worker", action="store_true", help="keep trending scores as is")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers per server")
    parser.add_argument("--port", type=int, default=port, help=port_help)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk run")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up seconds per endpoint")
    parser.add_argument("--rounds", type=int, default=2, help="runs per endpoint and server")
    parser.add_argument("--only", nargs="*", help="endpoint names containing these strings")
    parser.add_argument(
        "--db-pool-size",
        type=int,
        default=20,
        help="connections per worker, both servers (dreamlust: pool_size N, no overflow); "
        "0: each server's defaults (dreamlust 10 + 10 overflow, baseline 10..20)",
    )
    parser.add_argument("--wrk", default=shutil.which("wrk") or "wrk")


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench database's options, shared with engagement.py."""
    parser.add_argument("--db", default="dreamlust_bench", help="bench database name")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_database_arguments(parser)
    parser.add_argument("--scale", type=int, default=700, help="seed scale if the DB is empty")
    parser.add_argument(
        "--allow-small", action="store_true", help="accept a database below the issue's size"
    )
    parser.add_argument(
        "--reseed", action="store_true", help="drop the bench database and seed it anew"
    )
    add_load_arguments(parser, port=8701, port_help="dreamlust port; baseline +1")
    args = parser.parse_args(argv)
    ensure_wrk(args)
    # `kill` ends this run like Ctrl-C does: through the `finally` that stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    secret_key = secrets.token_urlsafe(48)
    env = dreamlust_env(args, secret_key)
    counts = prepare_database(args, env)
    measurements = Measurements()
    with tempfile.TemporaryDirectory(prefix="dreamlust-bench-") as tmp:
        work = Path(tmp)
        with servers(args, env, work) as (dreamlust, baseline):
            endpoints, scripts = endpoints_to_measure(args, work, secret_key)
            log("checking that the baseline sends the same SQL as dreamlust")
            same_sql = check_sql(endpoints, dreamlust, env)
            log("checking that both servers return the same JSON")
            same_json = check_parity(endpoints, dreamlust, baseline)
            log(f"warming up ({args.warmup} s per endpoint and server)")
            for endpoint in endpoints:
                for server in (dreamlust, baseline):
                    load(args, server, endpoint, scripts[endpoint.name], args.warmup)
            log("measuring")
            for round_ in range(1, args.rounds + 1):
                for endpoint in endpoints:
                    for server in (dreamlust, baseline):
                        result = load(args, server, endpoint, scripts[endpoint.name], args.duration)
                        measurements.add(endpoint.name, server.name, result)
                        log(
                            f"round {round_} {endpoint.name:<22} {server.name:<10} "
                            f"{result.requests_per_second:>8.0f} req/s  p50 {result.p50_ms:.2f} "
                            f"ms  p99 {result.p99_ms:.2f} ms  errors {result.errors}  CPU/req: "
                            f"app {result.cpu_us_per_request:.0f} us, db "
                            f"{result.db_cpu_us_per_request:.0f} us, wrk "
                            f"{result.wrk_cpu_us_per_request:.0f} us; other load "
                            f"{result.other_cores:.2f} cores"
                        )
    pool = f"{args.db_pool_size} connections" if args.db_pool_size else "default pools"
    print()
    print(
        f"dreamlust vs baseline, anonymous reads, uncached; {counts.get('content', 0):,} content, "
        f"{counts.get('creators', 0):,} creators, {counts.get('views', 0):,} views, "
        f"{counts.get('likes', 0):,} likes\n{args.workers} uvicorn workers per server, {pool} "
        f"per worker; wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency; "
        f"median of {args.rounds} round(s)\n"
        "app CPU / db CPU: CPU time per request of the server's processes / of PostgreSQL; "
        "other: cores busy with anything else during the run (worst round; 0 = a quiet machine)"
    )
    print(table(endpoints, measurements))
    if not same_sql:
        print("\nWARNING: the baseline's SQL differs from dreamlust's (SQL DIFFERS above)")
    if not same_json:
        print("\nWARNING: the servers' JSON differed (MISMATCH above)")
    low = [
        e.name
        for e in endpoints
        if (ours := measurements.median(e.name, "dreamlust"))
        and (theirs := measurements.median(e.name, "baseline"))
        and ours.requests_per_second < TARGET_RATIO * theirs.requests_per_second
    ]
    print(
        f"\ntarget: dreamlust >= {TARGET_RATIO}x baseline req/s on each endpoint: "
        + ("met" if not low else "MISSED on " + ", ".join(low))
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
