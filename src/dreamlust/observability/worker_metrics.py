"""The worker's metrics: its jobs' runs, failures and durations, served by the worker
itself (it answers no HTTP otherwise), on an address an operator chooses; loopback by
default, so only what runs on the machine, such as a Prometheus agent, reads them."""

from __future__ import annotations

import logging

from prometheus_client import start_http_server

logger = logging.getLogger(__name__)


def serve_worker_metrics(address: str, port: int) -> None:
    """Serve `/metrics` from a thread of this process."""
    start_http_server(port, addr=address)
    logger.info("worker metrics at http://%s:%d/metrics", address, port)
