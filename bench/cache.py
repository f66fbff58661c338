"""The read cache's bench: trending and the content detail, uncached and cached, in one run.

    make bench-cache                 # = .venv/bin/python bench/cache.py

Three `dreamlust serve` processes on one PostgreSQL database of their own (seeded small
on first use, so the run works on a fresh machine): `uncached` with
DREAMLUST_CACHE_ENABLED=false, `cached-redis` with REDIS_URL, `cached-lru` without Redis
(the in-process LRU). Each endpoint is loaded with wrk on each server in turn (a warm-up,
then one measured run); the detail rotates over up to 100 visible items. The report
gives req/s, latency and CPU per request, and each cached server's req/s over the
uncached one's: `ok` at 3x or more. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

import run as bench  # bench/ is the script's directory, hence on sys.path

TARGET_RATIO = 3.0
SERVERS = ("uncached", "cached-redis", "cached-lru")
TRENDING = "/api/v1/content/trending"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench.add_database_arguments(parser)
    parser.set_defaults(db="dreamlust_bench_cache")
    parser.add_argument("--scale", type=int, default=10, help="seed size when seeding")
    parser.add_argument("--reseed", action="store_true", help="drop and re-seed the database")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each measured run")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per server")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--port", type=int, default=8721, help="first of three ports")
    parser.add_argument("--wrk", default="wrk")
    return parser.parse_args(argv)


def prepare(args: argparse.Namespace, env: dict[str, str]) -> None:
    asyncio.run(bench.ensure_database(args))
    bench.run_cli([str(bench.DREAMLUST), "db", "upgrade"], env, timeout=600)
    counts = asyncio.run(bench.count_rows(bench.database_url(args, args.db)))
    if counts.get("users"):
        bench.log(f"{args.db} already holds data: not seeding")
    else:
        bench.log(f"seeding {args.db} at scale {args.scale}")
        command = [str(bench.DREAMLUST), "seed", "--scale", str(args.scale)]
        bench.run_cli(command, env, timeout=args.scale * 30 + 600)
    asyncio.run(bench.vacuum_analyze(bench.database_url(args, args.db)))


def server_env(args: argparse.Namespace, env: dict[str, str], name: str) -> dict[str, str]:
    own = {**env, "DREAMLUST_DB_POOL_SIZE": "20", "DREAMLUST_DB_MAX_OVERFLOW": "0"}
    if name == "uncached":
        own["DREAMLUST_CACHE_ENABLED"] = "false"
    if name == "cached-redis":
        own["REDIS_URL"] = args.redis_url
        own["DREAMLUST_CACHE_PREFIX"] = f"dreamlust-bench-cache:{uuid.uuid4().hex}"
    return own


def detail_paths(server: bench.Server) -> list[str]:
    status, body = bench.get(f"{server.url}{TRENDING}?limit=100")
    if status != 200:
        raise SystemExit(f"{TRENDING} answered {status}: {body[:300]!r}")
    items = json.loads(body)["items"]
    if not items:
        raise SystemExit("no visible content to read: re-run with --reseed")
    return [f"/api/v1/content/{item['id']}" for item in items]


def measure(
    args: argparse.Namespace, server: bench.Server, path: str, script: Path | None
) -> bench.Result:
    assert server.process is not None
    url = server.url + path
    bench.measure_wrk(args, url, script, args.warmup, [server.process.pid])
    return bench.measure_wrk(args, url, script, args.duration, [server.process.pid])


def report(results: dict[tuple[str, str], bench.Result]) -> tuple[str, bool]:
    lines = [
        f"{'endpoint':<22} {'server':<13} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'errors':>6} {'app CPU':>9} {'db CPU':>8} {'other':>6}  ratio",
        "-" * 104,
    ]
    met = True
    for endpoint in ("GET /content/trending", "GET /content/{id}"):
        uncached = results[endpoint, "uncached"]
        for name in SERVERS:
            result = results[endpoint, name]
            ratio = ""
            if name != "uncached":
                times = result.requests_per_second / max(uncached.requests_per_second, 1e-9)
                ok = times >= TARGET_RATIO and result.errors == 0
                met = met and ok
                ratio = f"{times:5.1f}x {'ok' if ok else 'LOW'}"
            lines.append(
                f"{endpoint:<22} {name:<13} {result.requests_per_second:>8.0f} "
                f"{result.p50_ms:>8.2f} {result.p99_ms:>8.2f} {result.errors:>6} "
                f"{result.cpu_us_per_request:>7.0f}us {result.db_cpu_us_per_request:>6.0f}us "
                f"{result.other_cores:>6.2f}  {ratio}"
            )
    return "\n".join(lines), met


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    bench.ensure_wrk(args)
    env = bench.dreamlust_env(args, secrets.token_urlsafe(48))
    prepare(args, env)
    servers = [bench.Server(name, args.port + n) for n, name in enumerate(SERVERS)]
    results: dict[tuple[str, str], bench.Result] = {}
    with tempfile.TemporaryDirectory(prefix="dreamlust-bench-cache-") as scratch:
        logs = Path(scratch)
        try:
            for server in servers:
                command = [
                    str(bench.DREAMLUST), "serve", "--host", bench.HOST,
                    "--port", str(server.port), "--workers", str(args.workers),
                ]  # fmt: skip
                bench.start(server, command, server_env(args, env, server.name), logs)
            for server in servers:
                bench.wait_ready(server, "/healthz")
            script = bench.lua_script(detail_paths(servers[0]), logs, "detail")
            for endpoint, path, rotate in (
                ("GET /content/trending", TRENDING, None),
                ("GET /content/{id}", "/", script),
            ):
                for server in servers:
                    result = measure(args, server, path, rotate)
                    results[endpoint, server.name] = result
                    bench.log(
                        f"{endpoint} {server.name}: {result.requests_per_second:.0f} req/s, "
                        f"{result.errors} errors"
                    )
        finally:
            for server in servers:
                bench.stop(server)
    text, met = report(results)
    print(text)
    print(f"\ncached ≥ {TARGET_RATIO:.0f}x uncached: {'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    os.chdir(bench.ROOT)
    sys.exit(main())
