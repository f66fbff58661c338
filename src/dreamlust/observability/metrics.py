"""The process's Prometheus metrics, one definition each.

Under `dreamlust serve --workers N` every worker process writes its values to files in
the directory named by `PROMETHEUS_MULTIPROC_DIR` (made by the command, see
`multiprocess.py`), and a scrape of any worker adds up all of them. prometheus-client
decides how values are stored when it is first imported, so `MULTIPROCESS_DIRECTORY` is
read then too. A gauge says how the processes' values combine: `livesum` adds up the
processes that are still running, `mostrecent` keeps the last value any of them set.
"""

from __future__ import annotations

import os

from prometheus_client import Counter, Gauge, Histogram

MULTIPROCESS_DIRECTORY = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None

HTTP_REQUESTS = Counter(
    "dreamlust_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "dreamlust_http_request_duration_seconds",
    "Time from a request's arrival to the end of its response, by method and route template.",
    ["method", "route"],
)
DB_POOL_IN_USE = Gauge(
    "dreamlust_db_pool_connections_in_use",
    "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)
CACHE_LOOKUPS = Counter(
    "dreamlust_cache_lookups_total",
    "Read-cache lookups by cache and outcome.",
    ["cache", "outcome"],
)
OPTIMISTIC_LOCK_CONFLICTS = Counter(
    "dreamlust_optimistic_lock_conflicts_total", "Updates refused because the version moved on."
)
RATE_LIMIT_REFUSALS = Counter(
    "dreamlust_rate_limit_refusals_total", "Requests refused by a rate limit.", ["limit"]
)
JOB_RUNS = Counter(
    "dreamlust_job_runs_total", "Worker job runs by job and outcome.", ["job", "outcome"]
)
JOB_DURATION = Histogram("dreamlust_job_duration_seconds", "Worker job run time.", ["job"])
VIEW_BUFFER_BACKLOG = Gauge(
    "dreamlust_view_buffer_backlog",
    "Views buffered in Redis, not yet in the database (read when scraped).",
    multiprocess_mode="mostrecent",
)
