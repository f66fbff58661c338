"""`dreamlust serve --workers 4`: a scrape of any worker counts the requests of all of them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.fixtures.databases import empty_database
from tests.fixtures.metrics import parse, samples_by_process, scrape, value
from tests.fixtures.serving import serve_process

WORKERS = 4
BATCH = 10
MAX_BATCHES = 20
ROUTE = "/api/v1/content"
REQUESTS = "dreamlust_http_requests_total"
LABELS = {"method": "GET", "route": ROUTE, "status": "200"}


async def _send_batch(base_url: str) -> None:
    """`BATCH` requests at once, each on a connection of its own, so that the workers'
    accept loops share them out."""
    fresh_connections = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=fresh_connections) as client:
        responses = await asyncio.gather(*(client.get(ROUTE) for _ in range(BATCH)))
    assert [response.status_code for response in responses] == [200] * BATCH


def _only_metrics_directory(parent: Path) -> Path:
    (directory,) = parent.glob("dreamlust-metrics-*")
    return directory


def _serving_processes(metrics_directory: Path) -> int:
    return sum(
        1
        for samples in samples_by_process(metrics_directory).values()
        if value(samples, REQUESTS, **LABELS) > 0
    )


async def test_a_scrape_counts_the_requests_every_worker_answered(
    backend: str, tmp_path: Path
) -> None:
    async with (
        empty_database(backend, tmp_path) as database_url,
        # The command makes its metrics directory in the temporary directory: here.
        serve_process(
            database_url, tmp_path, {"TMPDIR": str(tmp_path)}, "--workers", str(WORKERS)
        ) as base_url,
    ):
        metrics_directory = _only_metrics_directory(tmp_path)
        sent = 0
        for _ in range(4):
            await _send_batch(base_url)
            sent += BATCH
        # The kernel decides which worker accepts a connection; keep sending until the
        # requests were answered by more than one of them.
        while _serving_processes(metrics_directory) < 2 and sent < BATCH * MAX_BATCHES:
            await _send_batch(base_url)
            sent += BATCH
        assert _serving_processes(metrics_directory) >= 2

        fresh_connections = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(
            base_url=base_url, timeout=30, limits=fresh_connections
        ) as client:
            scraped = [parse(await scrape(client)) for _ in range(3)]

    assert sent >= 40
    assert [value(samples, REQUESTS, **LABELS) for samples in scraped] == [sent] * 3
    assert not metrics_directory.exists()
