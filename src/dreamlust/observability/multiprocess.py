"""Metrics shared by the worker processes of one `dreamlust serve --workers N`.

Each worker writes its values into files of one directory, and a scrape of any worker
reads them all (prometheus-client's multiprocess mode). The directory is made fresh for
each `serve`, before the workers start, so no count of an earlier run is added in, and it
is removed when serving ends. A worker that stops drops its share of the `live…` gauges.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import multiprocess

from dreamlust.observability.metrics import MULTIPROCESS_DIRECTORY

DIRECTORY_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
DIRECTORY_PREFIX = "dreamlust-metrics-"


@contextmanager
def shared_metrics_directory() -> Iterator[Path]:
    """A fresh directory named in the environment the worker processes inherit."""
    directory = Path(tempfile.mkdtemp(prefix=DIRECTORY_PREFIX))
    previous = os.environ.get(DIRECTORY_VARIABLE)
    os.environ[DIRECTORY_VARIABLE] = str(directory)
    try:
        yield directory
    finally:
        if previous is None:
            del os.environ[DIRECTORY_VARIABLE]
        else:
            os.environ[DIRECTORY_VARIABLE] = previous
        shutil.rmtree(directory, ignore_errors=True)


def process_stopping() -> None:
    """This process serves no more: its live gauges leave the sums of the others."""
    if MULTIPROCESS_DIRECTORY is not None:
        # prometheus-client leaves this function unannotated.
        multiprocess.mark_process_dead(os.getpid(), MULTIPROCESS_DIRECTORY)  # type: ignore[no-untyped-call]
